import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import test, { type ExecutionContext } from 'ava'
import Wire from 'bittorrent-protocol'

// The behaviour of bittorrent-protocol's Wire, on the fetching side, that appliance/download/peer-link.ts
// relies on beyond the README, each test named after it, two real Wires wired to each other: an
// upgrade that changes one fails here.

const INFO_HASH = 'ab'.repeat(20)
const BLOCK = 16 * 1024

interface Pair {
  /** Ours: the downloading side (no fast extension, as PeerLink's handshake offers none). */
  readonly ours: Wire
  /** The peer. */
  readonly peer: Wire
}

async function pair (t: ExecutionContext): Promise<Pair> {
  const ours = new Wire('tcpOutgoing')
  const peer = new Wire('tcpIncoming')
  ours.on('data', (chunk) => peer.write(chunk))
  peer.on('data', (chunk) => ours.write(chunk))
  t.teardown(() => { ours.destroy(); peer.destroy() })
  peer.on('handshake', () => peer.handshake(INFO_HASH, randomBytes(20), { fast: true }))
  const handshake = once(ours, 'handshake')
  ours.handshake(INFO_HASH, randomBytes(20))
  await handshake
  return { ours, peer }
}

async function unchoked (t: ExecutionContext): Promise<Pair> {
  const wires = await pair(t)
  const unchoke = once(wires.ours, 'unchoke')
  wires.peer.unchoke()
  await unchoke
  return wires
}

test('peerChoking is true until the peer unchokes; a request while choked fails at once', async (t) => {
  const { ours, peer } = await pair(t)
  t.true(ours.peerChoking)
  const error = await new Promise<Error | null>((resolve) => ours.request(0, 0, BLOCK, (failure) => resolve(failure)))
  t.truthy(error)
  const unchoke = once(ours, 'unchoke')
  peer.unchoke()
  await unchoke
  t.false(ours.peerChoking)
})

test('peerPieces follows the peer\'s bitfield and haves, and each have is an event with its index', async (t) => {
  const { ours, peer } = await pair(t)
  const bitfield = once(ours, 'bitfield')
  peer.bitfield(Uint8Array.of(0b10000000))
  await bitfield
  t.true(ours.peerPieces.get(0))
  t.false(ours.peerPieces.get(3))
  const have = once(ours, 'have')
  peer.have(3)
  t.deepEqual(await have, [3])
  t.true(ours.peerPieces.get(3))
})

test('a request\'s callback gets the block the peer answers with; a piece nobody asked for reaches no callback', async (t) => {
  const { ours, peer } = await unchoked(t)
  const block = randomBytes(BLOCK)
  peer.once('request', (_index, _offset, _length, respond) => respond(null, block))
  const got = await new Promise<Uint8Array | undefined>((resolve) => ours.request(1, BLOCK, BLOCK, (error, data) => resolve(error === null ? data : undefined)))
  t.deepEqual(Buffer.from(got!), block)
  let calls = 0
  ours.request(2, 0, BLOCK, () => { calls++ })
  await once(peer, 'request')
  const piece = once(ours, 'piece')
  peer.piece(5, 0, block)
  await piece
  t.is(calls, 0, 'the unrequested piece answered nothing')
})

test('without the fast extension, a choke fails every request still out', async (t) => {
  const { ours, peer } = await unchoked(t)
  const failures = [0, 1, 2].map(async (index) => await new Promise<Error | null>((resolve) => ours.request(index, 0, BLOCK, (error) => resolve(error))))
  await once(peer, 'request')
  peer.choke()
  const errors = await Promise.all(failures)
  t.true(errors.every((error) => error instanceof Error))
})

test('setTimeout: a request unanswered that long fails and the wire emits timeout', async (t) => {
  const { ours } = await unchoked(t)
  // Not unref'd here: two in-memory wires hold nothing else that keeps the test's process alive.
  ours.setTimeout(100)
  const timeout = once(ours, 'timeout')
  const error = await new Promise<Error | null>((resolve) => ours.request(0, 0, BLOCK, (failure) => resolve(failure)))
  await timeout
  t.regex(error!.message, /timed out/)
})
