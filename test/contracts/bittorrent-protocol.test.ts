import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import test, { type ExecutionContext } from 'ava'
import { eventually } from '../hardware/eventually.js'
import { MESSAGE, RawPeer } from '../seeder/peers.js'
import { OUR_PEER_ID, wirePair, type WirePair, type WirePairOptions } from './wire-pair.js'

// The behaviour of bittorrent-protocol's Wire that appliance/seeder/peer-wire.ts relies on, each test
// named after it, driven through PeerWire against a real Wire: an upgrade that changes one fails here.

const BLOCK = 16 * 1024
/** Long enough for anything a wire would send in answer to have been sent. */
const QUIET_MS = 50

/** A pair past the handshake, the remote unchoked. */
async function unchokedPair (t: ExecutionContext, options: WirePairOptions = {}): Promise<WirePair> {
  const pair = wirePair(t, options)
  await eventually(t, () => pair.heard.handshakes.length, 1, 'our side heard the handshake')
  const unchoked = once(pair.remote, 'unchoke')
  pair.ours.unchoke()
  await unchoked
  return pair
}

/** The remote asks for the first block; resolves with what its callback got. */
async function requestFirstBlock (t: ExecutionContext, pair: WirePair): Promise<{ outcome: Promise<{ error: Error | null, block: Uint8Array | undefined }> }> {
  const outcome = new Promise<{ error: Error | null, block: Uint8Array | undefined }>((resolve) => {
    pair.remote.request(0, 0, BLOCK, (error, block) => { resolve({ error, block }) })
  })
  await eventually(t, () => pair.heard.requests.length, 1, 'the request reached us')
  return { outcome }
}

test('handshake: the peer\'s infohash and id reach us in lower-case hex; ours offers BEP 6 and BEP 10, and the fast extension holds only if both offer it', async (t) => {
  const pair = wirePair(t)
  const [, ourId, extensions] = await once(pair.remote, 'handshake') as [string, string, Record<string, boolean>]
  t.deepEqual(pair.heard.handshakes, [{ infoHash: pair.metainfo.infoHash, peerId: pair.remoteId.toString('hex') }])
  t.is(ourId, OUR_PEER_ID.toString('hex'))
  t.like(extensions, { fast: true, extended: true })
  t.true(pair.ours.hasFast)

  const plain = wirePair(t, { fast: false })
  await once(plain.remote, 'handshake')
  t.false(plain.ours.hasFast)
})

test('extended handshake: what describe() sets from the handshake call back goes out in the BEP 10 handshake, incoming and outgoing', async (t) => {
  for (const direction of ['incoming', 'outgoing'] as const) {
    const pair = wirePair(t, {
      direction,
      onHandshake: ({ ours, metainfo }) => {
        ours.describe({ infoBytes: metainfo.infoBytes, clientName: 'evertorrent contract', maxRequests: 77, pex: false })
        if (direction === 'incoming') ours.sendHandshake(metainfo.infoHash, OUR_PEER_ID, false)
      }
    })
    await eventually(t, () => 'm' in pair.remote.peerExtendedHandshake, true, `${direction}: the remote got our extended handshake`)
    const { v, reqq, m } = pair.remote.peerExtendedHandshake as { v: Uint8Array, reqq: number, m: Record<string, number> }
    t.is(Buffer.from(v).toString(), 'evertorrent contract', direction)
    t.is(reqq, 77, direction)
    t.true(m.ut_metadata! > 0, `${direction}: ut_metadata is in the m dictionary`)
  }
})

test('answer: the block goes out as the very buffer answered, once, marked as the block, and is counted as uploaded', async (t) => {
  const pair = await unchokedPair(t)
  const { outcome } = await requestFirstBlock(t, pair)
  const block = randomBytes(BLOCK)
  t.true(pair.ours.answer(pair.heard.requests[0]!.respond, block), 'the wire took the block')
  const { error, block: received } = await outcome
  t.is(error, null)
  t.true(Buffer.from(received!).equals(block), 'the peer got its bytes')
  t.deepEqual(pair.heard.output.filter((out) => out.chunk === block).map((out) => out.block), [true], 'handed to output once, as that very buffer')
  t.deepEqual(pair.heard.uploaded, [BLOCK])
})

test('answer: once handed to output, a block is not read by the wire again, so it may be ciphered in place (PeerSession under MSE)', async (t) => {
  const pair = await unchokedPair(t, {
    forward: (chunk, block) => {
      if (!block) return chunk
      const sent = Buffer.from(chunk)
      chunk.fill(0xff)
      return sent
    }
  })
  const blocks = [randomBytes(BLOCK), randomBytes(BLOCK)]
  const received = blocks.map((_, index) => new Promise<Uint8Array | undefined>((resolve) => {
    pair.remote.request(0, index * BLOCK, BLOCK, (_error, block) => { resolve(block) })
  }))
  await eventually(t, () => pair.heard.requests.length, 2, 'both requests reached us')
  for (const [index, block] of blocks.entries()) t.true(pair.ours.answer(pair.heard.requests[index]!.respond, Buffer.from(block)))
  for (const [index, block] of blocks.entries()) t.true(Buffer.from((await received[index])!).equals(block), `block ${index}: the bytes as they were when handed to output`)
  await sleep(QUIET_MS)
  t.deepEqual(pair.heard.uploaded, [BLOCK, BLOCK])
  t.is(pair.heard.output.filter((out) => out.block).length, 2, 'each block handed out once, never again after being overwritten')
})

test('cancel: a request the peer cancels reaches us as a cancel, and answering it afterwards takes nothing and sends nothing', async (t) => {
  const pair = await unchokedPair(t)
  await requestFirstBlock(t, pair)
  pair.remote.cancel(0, 0, BLOCK)
  await eventually(t, () => pair.heard.cancels, [[0, 0, BLOCK]], 'the cancel reached us')
  const block = randomBytes(BLOCK)
  t.false(pair.ours.answer(pair.heard.requests[0]!.respond, block))
  await sleep(QUIET_MS)
  t.false(pair.heard.output.some((out) => out.chunk === block), 'the block was not sent')
  t.deepEqual(pair.heard.uploaded, [])
})

test('choke: a fast peer\'s pending requests are rejected (BEP 6), a plain peer\'s dropped, and answering one afterwards takes nothing', async (t) => {
  for (const fast of [true, false]) {
    const pair = await unchokedPair(t, { fast })
    const { outcome } = await requestFirstBlock(t, pair)
    const rejected = once(pair.remote, 'reject')
    pair.ours.choke()
    t.true(pair.ours.choking)
    if (fast) t.deepEqual(await rejected, [0, 0, BLOCK], 'the fast peer got a reject')
    t.not((await outcome).error, null, `the ${fast ? 'fast' : 'plain'} peer's request failed`)
    t.false(pair.ours.answer(pair.heard.requests[0]!.respond, randomBytes(BLOCK)))
  }
})

test('requests while we choke never reach us; a fast peer gets a reject for each', async (t) => {
  const pair = wirePair(t)
  await eventually(t, () => pair.heard.handshakes.length, 1, 'our side heard the handshake')
  await eventually(t, () => pair.remote.hasFast, true, 'the remote got our handshake')
  const rejected = once(pair.remote, 'reject')
  pair.ours.receive(RawPeer.message(MESSAGE.request, 0, 0, BLOCK), () => {})
  t.deepEqual(await rejected, [0, 0, BLOCK])
  t.deepEqual(pair.heard.requests, [])
})

test('refuse: a fast peer gets a BEP 6 reject for the request; a plain peer gets nothing', async (t) => {
  for (const fast of [true, false]) {
    const pair = await unchokedPair(t, { fast })
    await requestFirstBlock(t, pair)
    const rejected = once(pair.remote, 'reject')
    const sent = pair.heard.output.length
    pair.ours.refuse(pair.heard.requests[0]!.respond, new Error('read failed'))
    if (fast) {
      t.deepEqual(await rejected, [0, 0, BLOCK])
    } else {
      await sleep(QUIET_MS)
      t.is(pair.heard.output.length, sent, 'nothing was sent to the plain peer')
    }
  }
})

test('violations end the wire: BEP 6 messages from a peer without the fast extension', async (t) => {
  const messages: ReadonlyArray<[string, Buffer]> = [
    ['HaveAll', RawPeer.message(MESSAGE.haveAll)],
    ['HaveNone', RawPeer.message(0x0f)],
    ['Suggest', RawPeer.message(0x0d, 0)],
    ['Reject', RawPeer.message(MESSAGE.reject, 0, 0, BLOCK)],
    ['AllowedFast', RawPeer.message(0x11, 0)]
  ]
  for (const [name, message] of messages) {
    const pair = wirePair(t, { fast: false })
    await eventually(t, () => pair.heard.handshakes.length, 1, 'our side heard the handshake')
    pair.ours.receive(message, () => {})
    await eventually(t, () => pair.heard.violations, 1, `${name} without the fast extension ends the wire`)
  }
})

test('peer messages reach us: interested and uninterested, HaveAll (BEP 6) and a bitfield', async (t) => {
  const pair = wirePair(t)
  await eventually(t, () => pair.remote.hasFast, true, 'the remote got our handshake')
  pair.remote.interested()
  await eventually(t, () => pair.ours.peerInterested, true, 'interested')
  pair.remote.uninterested()
  await eventually(t, () => pair.heard.interestChanges, 2, 'uninterested')
  t.false(pair.ours.peerInterested)
  pair.remote.haveAll()
  await eventually(t, () => pair.heard.haveAlls, 1, 'HaveAll')
  pair.remote.bitfield(Uint8Array.from([0b10100000, 0b1]))
  await eventually(t, () => pair.heard.bitfields.map((bitfield) => [...bitfield]), [[0b10100000, 0b1]], 'the bitfield, byte for byte')
})

test('receive: past its buffer the wire asks the writer to wait, then calls back once it has read everything', async (t) => {
  const pair = wirePair(t, { connected: false })
  const handshake = Buffer.concat([Buffer.from('\x13BitTorrent protocol', 'latin1'), Buffer.alloc(8), Buffer.from(pair.metainfo.infoHash, 'hex'), pair.remoteId])
  // 64k keep-alives: well past the wire's write buffer.
  let drained = false
  t.false(pair.ours.receive(Buffer.concat([handshake, Buffer.alloc(256 * 1024)]), () => { drained = true }), 'the writer is asked to wait')
  await eventually(t, () => drained, true, 'and is called back')
  t.is(pair.heard.handshakes.length, 1)
  t.is(pair.heard.violations, 0)
})

test('destroy: a block answered and not yet handed out comes back from destroy, never from output as well', async (t) => {
  const pair = await unchokedPair(t)
  await requestFirstBlock(t, pair)
  const block = randomBytes(BLOCK)
  t.true(pair.ours.answer(pair.heard.requests[0]!.respond, block))
  const givenBack = pair.ours.destroy()
  await sleep(QUIET_MS)
  const handedOut = pair.heard.output.filter((out) => out.chunk === block && out.block).length
  t.is(handedOut + givenBack.filter((given) => given === block).length, 1, 'the block came back exactly once')
})

test('handshake: ours is the wire\'s first output, one 68-byte chunk, in which PeerWire sets the BEP 52 bit; the remote still reads it, its other bits kept', async (t) => {
  const pair = wirePair(t, { onHandshake: ({ ours, metainfo }) => { ours.sendHandshake(metainfo.infoHash, OUR_PEER_ID, true) } })
  const [, , extensions] = await once(pair.remote, 'handshake') as [string, string, Record<string, boolean>]
  const first = pair.heard.output[0]!.chunk
  t.is(first.length, 68)
  t.is(first[27]! & 0x14, 0x14, 'the v2 bit and the fast bit')
  t.like(extensions, { fast: true, extended: true })
  t.is(pair.heard.output.filter(({ chunk }) => chunk.length === 68 && (chunk[27]! & 0x10) !== 0).length, 1, 'no other chunk touched')
})

test('unknown messages: a BEP 52 hash request reaches us whole, id first; hashes and hash reject (answers to nothing a seed asks) are violations; other ids are ignored', async (t) => {
  const pair = wirePair(t)
  await eventually(t, () => pair.heard.handshakes.length, 1, 'our side heard the handshake')
  const request = Buffer.alloc(4 + 49, 3)
  request.writeUInt32BE(49, 0)
  request[4] = 21
  pair.ours.receive(request, () => {})
  await eventually(t, () => pair.heard.hashRequests.length, 1, 'the hash request reached us')
  t.deepEqual(pair.heard.hashRequests, [request.subarray(4)])
  pair.ours.receive(Buffer.from([0, 0, 0, 2, 99, 1]), () => {})
  await sleep(QUIET_MS)
  t.is(pair.heard.violations, 0, 'an id nobody defined is ignored (BEP 3)')
  for (const id of [22, 23]) {
    const answer = Buffer.from(request)
    answer[4] = id
    pair.ours.receive(answer, () => {})
  }
  await eventually(t, () => pair.heard.violations > 0, true, 'hashes are a violation')
})

test('output: a frame PeerWire pushes itself (sendHashMessage) keeps its place between the wire\'s own messages', async (t) => {
  const pair = wirePair(t)
  await eventually(t, () => pair.heard.handshakes.length, 1, 'our side heard the handshake')
  await sleep(QUIET_MS)
  const before = pair.heard.output.length
  const frame = Buffer.from([0, 0, 0, 1, 23])
  pair.ours.unchoke()
  pair.ours.sendHashMessage(frame)
  pair.ours.choke()
  await eventually(t, () => pair.heard.output.length - before, 3, 'all three went out')
  t.deepEqual(pair.heard.output.slice(before).map(({ chunk }) => Buffer.from(chunk).toString('hex')), ['0000000101', '0000000117', '0000000100'])
})
