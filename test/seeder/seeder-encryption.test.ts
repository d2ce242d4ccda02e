import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { createServer, type AddressInfo, type Socket } from 'node:net'
import { join } from 'node:path'
import test, { type ExecutionContext } from 'ava'
import Wire from 'bittorrent-protocol'
import type { PublishedTorrent } from '../../appliance/catalog/catalog.js'
import type { InfoHash } from '../../appliance/metainfo/metainfo.js'
import { CRYPTO_PLAINTEXT, CRYPTO_RC4, req2Hash } from '../../appliance/seeder/mse/mse-handshake.js'
import type { Seeder } from '../../appliance/seeder/seeder.js'
import type { DisconnectReason, PeerEvent } from '../../appliance/seeder/seeder-events.js'
import type { EncryptionPolicy, SeederOptions } from '../../appliance/seeder/seeder-options.js'
import { sha256, writeTree } from '../helpers/content.js'
import { tempDir } from '../helpers/temp-dir.js'
import { contentOf, publish } from './fixtures.js'
import { CraftedInitiator, type Step3Options } from './mse-peer.js'
import { downloadWithWire, RawPeer } from './peers.js'
import { startSeeder } from './start-seeder.js'

const KiB = 1024

interface Fixture {
  readonly torrent: PublishedTorrent
  readonly seeder: Seeder
  /** Why each connection ended, by the peer's port. */
  readonly ended: Map<number, DisconnectReason>
  readonly connected: PeerEvent[]
}

async function fixture (t: ExecutionContext, encryption: EncryptionPolicy, options: Partial<SeederOptions> = {}): Promise<Fixture> {
  const source = tempDir(t)
  writeTree(source, { 'item/a.bin': 1024 * KiB + 3 })
  const torrent = await publish(join(source, 'item'), { pieceLength: 64 * KiB })
  const { seeder } = await startSeeder(t, [torrent], { encryption, ...options })
  const ended = new Map<number, DisconnectReason>()
  const record = (event: { address: string, reason: DisconnectReason }): void => { ended.set(Number(event.address.split(':').at(-1)), event.reason) }
  seeder.on('peer-refused', record)
  seeder.on('peer-disconnected', record)
  const connected: PeerEvent[] = []
  seeder.on('peer-connected', (event) => connected.push(event))
  return { torrent, seeder, ended, connected }
}

/** Bytes from the seeder until it has sent `count`, or the connection closed. */
async function readAtLeast (peer: RawPeer, count: number, received: Buffer[]): Promise<Buffer> {
  while (Buffer.concat(received).length < count && !peer.isClosed) await Promise.race([once(peer.socket, 'data'), peer.closed])
  return Buffer.concat(received)
}

/** A raw MSE attempt: step 1, then step 3 as `options` say; resolves with the reason the seeder gave when it hung up. */
async function mseAttempt (f: Fixture, infoHash: InfoHash, options: Step3Options = {}): Promise<DisconnectReason | undefined> {
  const peer = await RawPeer.connect(f.seeder.port)
  const received: Buffer[] = []
  peer.socket.on('data', (chunk: Buffer) => received.push(chunk))
  const initiator = new CraftedInitiator(infoHash)
  peer.write(initiator.step1())
  const step2 = await readAtLeast(peer, 96, received)
  peer.write(initiator.step3(step2, options))
  if (!await peer.closedWithin(5000)) {
    peer.destroy()
    return undefined
  }
  await new Promise((resolve) => setImmediate(resolve))
  return f.ended.get(peer.port)
}

test('bittorrent-protocol\'s own MSE (RC4 only), a second implementation, downloads the whole torrent over RC4', async (t) => {
  const f = await fixture(t, 'require')
  t.is(sha256(await downloadWithWire(f.seeder.port, f.torrent, 8, { mse: true })), sha256(contentOf(f.torrent)))
  t.is(f.connected[0]?.encrypted, true)
  t.is(f.seeder.stats().refused['plaintext-refused'], undefined)
})

test('the seeder dials bittorrent-protocol\'s MSE responder over RC4 and joins the swarm', async (t) => {
  const f = await fixture(t, 'require')
  const { infoHash } = f.torrent.metainfo
  const sockets: Socket[] = []
  const remoteHandshake = new Promise<string>((resolve) => {
    const server = createServer((socket) => {
      sockets.push(socket)
      const wire = new Wire('tcpIncoming', 2)
      socket.on('data', (chunk: Buffer) => wire.write(chunk))
      socket.on('error', () => {})
      wire.on('data', (chunk) => socket.write(chunk))
      wire.on('crypto-infohash', (hash) => { if (hash === req2Hash(infoHash).toString('hex')) wire.setInfoHash(infoHash) })
      wire.on('handshake', (heard) => {
        wire.handshake(heard, randomBytes(20), { fast: true })
        resolve(heard)
      })
    }).listen(0, '127.0.0.1', () => f.seeder.connectTo(infoHash, { ip: '127.0.0.1', port: (server.address() as AddressInfo).port }))
    t.teardown(() => {
      for (const socket of sockets) socket.destroy()
      server.close()
    })
  })
  t.is(await remoteHandshake, infoHash)
  const joined = await new Promise<PeerEvent>((resolve) => {
    if (f.connected.length > 0) resolve(f.connected[0]!)
    else f.seeder.once('peer-connected', resolve)
  })
  t.like(joined, { direction: 'outgoing', encrypted: true })
})

test('require: a plaintext handshake and an MSE offer of plaintext only are refused, and counted', async (t) => {
  const f = await fixture(t, 'require')
  const plain = await RawPeer.connect(f.seeder.port)
  plain.sendHandshake(f.torrent.metainfo.infoHash)
  t.true(await plain.closedWithin())
  t.is(plain.handshake, undefined, 'not even a handshake came back')
  t.is(await mseAttempt(f, f.torrent.metainfo.infoHash, { provide: CRYPTO_PLAINTEXT }), 'mse-no-method')
  await new Promise((resolve) => setImmediate(resolve))
  t.like(f.seeder.stats().refused, { 'plaintext-refused': 1, 'mse-no-method': 1 })
})

test('off: an MSE handshake is refused before a byte goes back', async (t) => {
  const f = await fixture(t, 'off')
  const peer = await RawPeer.connect(f.seeder.port)
  const received: Buffer[] = []
  peer.socket.on('data', (chunk: Buffer) => received.push(chunk))
  peer.write(new CraftedInitiator(f.torrent.metainfo.infoHash).step1())
  t.true(await peer.closedWithin())
  t.is(Buffer.concat(received).length, 0)
  await new Promise((resolve) => setImmediate(resolve))
  t.is(f.ended.get(peer.port), 'bad-handshake')
})

test('hostile MSE peers each lose their own connection, with a reason, and the seeder serves on, both ways', async (t) => {
  const f = await fixture(t, 'prefer', { handshakeMs: 1000 })
  const { infoHash } = f.torrent.metainfo
  t.is(await mseAttempt(f, infoHash, { vc: Buffer.from('deadbeefdeadbeef', 'hex') }), 'mse-bad-vc')
  t.is(await mseAttempt(f, infoHash, { padC: 513 }), 'mse-bad-pad')
  t.is(await mseAttempt(f, infoHash, { padC: 65535 }), 'mse-bad-pad')
  t.is(await mseAttempt(f, randomBytes(20).toString('hex') as InfoHash), 'unknown-torrent')
  t.is(await mseAttempt(f, infoHash, { provide: 0 }), 'mse-no-method')

  const garbage = await RawPeer.connect(f.seeder.port)
  garbage.write(randomBytes(2000))
  t.true(await garbage.closedWithin())
  const zeroKey = await RawPeer.connect(f.seeder.port)
  zeroKey.write(Buffer.alloc(96))
  t.true(await zeroKey.closedWithin())
  const stalled = await RawPeer.connect(f.seeder.port)
  stalled.write(new CraftedInitiator(infoHash).step1())
  t.true(await stalled.closedWithin(5000), 'a peer that stops mid-MSE is timed out by handshake_seconds')
  await new Promise((resolve) => setImmediate(resolve))
  t.is(f.ended.get(garbage.port), 'mse-no-sync')
  t.is(f.ended.get(zeroKey.port), 'mse-bad-key')
  t.is(f.ended.get(stalled.port), 'timeout')
  t.like(f.seeder.stats().refused, { 'unknown-torrent': 1 })

  const content = sha256(contentOf(f.torrent))
  t.is(sha256(await downloadWithWire(f.seeder.port, f.torrent, 8)), content, 'plaintext still served')
  t.is(sha256(await downloadWithWire(f.seeder.port, f.torrent, 8, { mse: true })), content, 'MSE still served')
  t.deepEqual(f.connected.map((event) => event.encrypted), [false, true])
})

test('an IA carrying the BitTorrent handshake (as Transmission sends it) is taken as the start of the stream', async (t) => {
  const f = await fixture(t, 'require')
  const { infoHash } = f.torrent.metainfo
  const peer = await RawPeer.connect(f.seeder.port)
  const received: Buffer[] = []
  peer.socket.on('data', (chunk: Buffer) => received.push(chunk))
  const initiator = new CraftedInitiator(infoHash)
  peer.write(initiator.step1())
  const step2 = await readAtLeast(peer, 96, received)
  received.length = 0
  const handshake = Buffer.concat([Buffer.from('\x13BitTorrent protocol', 'latin1'), Buffer.alloc(8), Buffer.from(infoHash, 'hex'), randomBytes(20)])
  peer.write(initiator.step3(step2, { ia: handshake, provide: CRYPTO_RC4 | CRYPTO_PLAINTEXT }))
  const joined = await new Promise<PeerEvent>((resolve) => f.seeder.once('peer-connected', resolve))
  t.true(joined.encrypted)
  peer.destroy()
})
