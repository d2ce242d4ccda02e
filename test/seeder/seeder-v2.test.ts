import test, { type ExecutionContext } from 'ava'
import Wire from 'bittorrent-protocol'
import { randomBytes } from 'node:crypto'
import { connect } from 'node:net'
import { join } from 'node:path'
import type { PublishedTorrent } from '../../appliance/catalog/catalog.js'
import type { TorrentFormat } from '../../appliance/metainfo/torrent-format.js'
import type { Seeder } from '../../appliance/seeder/seeder.js'
import type { DisconnectReason } from '../../appliance/seeder/seeder-events.js'
import type { SeederOptions } from '../../appliance/seeder/seeder-options.js'
import { sha256, sparseFile, writeTree } from '../helpers/content.js'
import { mkdirSync } from 'node:fs'
import { tempDir } from '../helpers/temp-dir.js'
import { startLibtorrentSeed } from '../interop/clients/libtorrent-seed.js'
import { contentOf, publish, writeTorrentFile } from './fixtures.js'
import { downloadWithWire, MESSAGE, RawPeer } from './peers.js'
import { startSeeder } from './start-seeder.js'

// The everseed on the BEP 52 wire, against raw peers: the handshake bit, the infohashes a hybrid
// answers to (MSE included), and hash requests answered, rejected, or ending that peer alone.

const KiB = 1024
const PIECE = 64 * KiB

interface Fixture {
  readonly seeder: Seeder
  readonly torrents: Record<TorrentFormat, PublishedTorrent>
  /** Why each connection ended, by the peer's port. */
  readonly ended: Map<number, DisconnectReason>
}

async function fixture (t: ExecutionContext, options: Partial<SeederOptions> = {}): Promise<Fixture & { readonly source: string }> {
  const source = tempDir(t)
  const torrents: Partial<Record<TorrentFormat, PublishedTorrent>> = {}
  for (const format of ['v1', 'hybrid', 'v2'] as const) {
    // 21 pieces of 64 KiB (the piece layer is layer 2) and a file smaller than a piece.
    writeTree(source, { [`${format}/big.bin`]: 20 * PIECE + 5, [`${format}/small.bin`]: 20_000 })
    torrents[format] = await publish(join(source, format), { pieceLength: PIECE, format })
  }
  const { seeder } = await startSeeder(t, Object.values(torrents), options)
  const ended = new Map<number, DisconnectReason>()
  const record = (event: { address: string, reason: DisconnectReason }): void => { ended.set(Number(event.address.split(':').at(-1)), event.reason) }
  seeder.on('peer-refused', record)
  seeder.on('peer-disconnected', record)
  return { seeder, torrents: torrents as Record<TorrentFormat, PublishedTorrent>, ended, source }
}

const truncatedV2 = (torrent: PublishedTorrent): string => torrent.metainfo.infoHashV2!.slice(0, 40)

async function handshaken (f: Fixture, infoHash: string, v2: boolean): Promise<RawPeer> {
  const peer = await RawPeer.connect(f.seeder.port)
  peer.sendHandshake(infoHash, { fast: true, v2 })
  await peer.waitFor((message) => message.id === MESSAGE.haveAll)
  return peer
}

function hashRequest (root: Uint8Array, base: number, index: number, length: number, proofLayers: number, id: number = MESSAGE.hashRequest): Buffer {
  const frame = Buffer.alloc(4 + 49)
  frame.writeUInt32BE(49, 0)
  frame[4] = id
  frame.set(root, 5)
  ;[base, index, length, proofLayers].forEach((value, at) => frame.writeUInt32BE(value, 37 + at * 4))
  return frame
}

const rootOf = (torrent: PublishedTorrent, file: number): Buffer => torrent.metainfo.piecesRoots!.subarray(file * 32, (file + 1) * 32)

test('the everseed sets the BEP 52 bit for hybrid and v2 torrents, not v1; a hybrid answers under the infohash used, or upgrades a v1 one sent with the bit', async (t) => {
  const f = await fixture(t)
  const { v1, hybrid, v2 } = f.torrents
  const cases: Array<[string, PublishedTorrent, string, boolean, string, boolean]> = [
    ['v1 torrent', v1, v1.metainfo.infoHash, true, v1.metainfo.infoHash, false],
    ['hybrid by v1, no bit', hybrid, hybrid.metainfo.infoHash, false, hybrid.metainfo.infoHash, true],
    ['hybrid by truncated v2', hybrid, truncatedV2(hybrid), true, truncatedV2(hybrid), true],
    ['hybrid by v1 with the bit: upgraded', hybrid, hybrid.metainfo.infoHash, true, truncatedV2(hybrid), true],
    ['v2 torrent', v2, v2.metainfo.infoHash, true, v2.metainfo.infoHash, true]
  ]
  const peers: RawPeer[] = []
  for (const [label, , asked, bit, answered, answeredBit] of cases) {
    const peer = await handshaken(f, asked, bit)
    peers.push(peer)
    t.is(peer.handshake!.toString('hex', 28, 48), answered, `${label}: answered infohash`)
    t.is((peer.handshake![27]! & 0x10) !== 0, answeredBit, `${label}: the BEP 52 bit`)
    t.is(peer.handshake![27]! & 0x04, 0x04, `${label}: the fast bit is kept`)
  }
  t.is(v2.metainfo.infoHash as string, truncatedV2(v2), 'a v2 torrent\'s infohash is its truncated v2 one')
  const swarms = new Map<string, number>(f.seeder.stats().torrents.map((torrent) => [torrent.infoHash, torrent.peers]))
  t.is(swarms.get(hybrid.metainfo.infoHash), 3, 'the hybrid\'s peers are one swarm, whichever infohash they used')
  t.is(swarms.get(truncatedV2(hybrid)), undefined)
  for (const peer of peers) peer.destroy()
})

test('MSE finds a hybrid by its truncated v2 infohash too: a download over RC4 keyed with it', async (t) => {
  const f = await fixture(t)
  const { hybrid } = f.torrents
  // The piece space: each file where it starts, pad bytes (zeros) between.
  const { files, totalBytes } = hybrid.metainfo
  const pieceSpace = Buffer.alloc(totalBytes)
  const content = contentOf(hybrid)
  for (let index = 0, at = 0; index < files.length; at += files.lengthOf(index), index++) content.copy(pieceSpace, files.offsetOf(index), at, at + files.lengthOf(index))
  t.is(sha256(await downloadWithWire(f.seeder.port, hybrid, 8, { mse: true, infoHash: truncatedV2(hybrid) })), sha256(pieceSpace))
})

test('hash requests are answered while choked; block hashes only for a piece the peer asked blocks of; ones the tree cannot answer get hash rejects and the peer stays; a malformed one, or an unsolicited hashes message, ends that peer only', async (t) => {
  const f = await fixture(t)
  const { hybrid, v2 } = f.torrents
  const big = rootOf(v2, 0)
  const peer = await handshaken(f, v2.metainfo.infoHash, true)

  // The piece layer (layer 2): 21 pieces, 32 with padding; the first 16 and all uncles up to the root's children.
  peer.write(hashRequest(big, 2, 0, 16, 4))
  const hashes = await peer.waitFor((message) => message.id === MESSAGE.hashes)
  t.deepEqual(hashes.payload.subarray(0, 48), hashRequest(big, 2, 0, 16, 4).subarray(5), 'the request\'s fields come back')
  t.deepEqual(hashes.payload.subarray(48, 48 + 16 * 32), v2.metainfo.pieceLayers!.get(big.toString('hex'))!.subarray(0, 16 * 32), 'the pieces\' digests from the piece layer')
  t.is(hashes.payload.length, 48 + 17 * 32, 'and one uncle: the proof layers below 16 hashes\' own subtree need none')

  const refused = [
    hashRequest(Buffer.alloc(32, 9), 2, 0, 2, 0), // unknown root
    hashRequest(rootOf(hybrid, 0), 2, 0, 2, 0), // another torrent's
    hashRequest(big, 2, 32, 2, 0), // past the padded layer
    hashRequest(big, 2, 0, 0x80000000, 0), // huge length
    hashRequest(big, 2, 0, 3, 0), // not a power of two
    hashRequest(big, 2, 2, 4, 0), // not a multiple of the length
    hashRequest(big, 2, 0, 2, 9), // proof layers above the root
    hashRequest(big, 7, 0, 2, 0), // the root's layer
    hashRequest(big, 0, 0, 8, 0) // leaves of two pieces
  ]
  for (const request of refused) peer.write(request)
  await peer.waitFor(() => peer.messages.filter((message) => message.id === MESSAGE.hashReject).length === refused.length)
  const rejects = peer.messages.filter((message) => message.id === MESSAGE.hashReject).map((message) => message.payload.toString('hex'))
  t.deepEqual(rejects.sort(), refused.map((request) => request.subarray(5).toString('hex')).sort(), 'each rejected with its own fields')

  // Leaves of the last piece: read from disk once the peer asked for one of its blocks (BEP 52), its
  // one 5-byte block and zero leaves, proven to the root's children.
  peer.write(hashRequest(big, 0, 76, 4, 0))
  await peer.waitFor((message) => message.id === MESSAGE.hashReject && message.payload.readUInt32BE(36) === 76)
  peer.sendMessage(MESSAGE.interested)
  await peer.waitFor((message) => message.id === MESSAGE.unchoke)
  peer.sendMessage(MESSAGE.request, 20, 0, 5)
  await peer.waitFor((message) => message.id === MESSAGE.piece)
  peer.write(hashRequest(big, 0, 80, 4, 6))
  const leaves = await peer.waitFor((message) => message.id === MESSAGE.hashes && message.payload.readUInt32BE(36) === 80)
  t.is(leaves.payload.length, 48 + (4 + 5) * 32)
  t.deepEqual(leaves.payload.subarray(48 + 32, 48 + 4 * 32), Buffer.alloc(3 * 32), 'leaves past the end of the file are zeros')

  const malformed = await handshaken(f, v2.metainfo.infoHash, true)
  const short = hashRequest(big, 2, 0, 2, 0)
  short.writeUInt32BE(45, 0)
  malformed.write(short.subarray(0, 4 + 45))
  t.true(await malformed.closedWithin(), 'a hash request of 45 bytes ends the connection')
  const answering = await handshaken(f, v2.metainfo.infoHash, true)
  answering.write(hashRequest(big, 2, 0, 2, 0, MESSAGE.hashes))
  t.true(await answering.closedWithin(), 'hashes the everseed never asked for end the connection')
  await new Promise((resolve) => setImmediate(resolve))
  t.is(f.ended.get(malformed.port), 'bad-hash-request')
  t.is(f.ended.get(answering.port), 'protocol-violation')

  peer.write(hashRequest(big, 3, 8, 2, 0))
  await peer.waitFor((message) => message.id === MESSAGE.hashes && message.payload.readUInt32BE(32) === 3)
  t.false(peer.isClosed, 'the first peer is still served')
  peer.destroy()
})

test('over MSE (RC4) keyed with a hybrid\'s truncated v2 infohash, hash requests are answered in the ciphered stream, in order', async (t) => {
  const f = await fixture(t)
  const { hybrid } = f.torrents
  const root = rootOf(hybrid, 0)
  const socket = connect({ host: '127.0.0.1', port: f.seeder.port })
  socket.on('error', () => {})
  // bittorrent-protocol's own MSE (RC4 only); its private _push ciphers what it sends, as a message of its own would be.
  const wire = new Wire('tcpOutgoing', 2)
  t.teardown(() => { socket.destroy(); wire.destroy() })
  socket.on('data', (chunk: Buffer) => wire.write(chunk))
  wire.on('data', (chunk) => socket.write(chunk))
  const answers: Buffer[] = []
  const got = new Promise<void>((resolve) => {
    wire.on('unknownmessage', (message) => {
      answers.push(Buffer.from(message))
      if (answers.length === 2) resolve()
    })
  })
  wire.once('crypto-handshake', () => wire.handshake(truncatedV2(hybrid), Buffer.from('-WT0000-' + randomBytes(6).toString('hex'), 'latin1'), { fast: true }))
  wire.on('handshake', () => {
    const push = (wire as unknown as { _push: (bytes: Buffer) => void })._push.bind(wire)
    push(hashRequest(root, 2, 0, 16, 0))
    push(hashRequest(root, 2, 16, 16, 0))
  })
  wire.startEncryption(truncatedV2(hybrid))
  await got
  const layer = hybrid.metainfo.pieceLayers!.get(root.toString('hex'))!
  t.deepEqual(answers.map((answer) => answer[0]), [MESSAGE.hashes, MESSAGE.hashes])
  t.deepEqual(answers[0]!.subarray(49), layer.subarray(0, 16 * 32), 'pieces 0 to 15')
  t.deepEqual(answers[1]!.subarray(49, 49 + 5 * 32), layer.subarray(16 * 32), 'pieces 16 to 20, then the padding')
  t.is(f.seeder.stats().encryptedPeers, 1)
})

// In plaintext libtorrent reads our v2 bit and answers with the truncated v2 infohash; over MSE it
// has found the torrent by the v1 one already and keeps it.
for (const encryption of ['off', 'prefer'] as const) {
  test(`dialling libtorrent for a hybrid (encryption ${encryption}), the everseed takes its answer, upgraded to the truncated v2 infohash or not, and joins`, async (t) => {
    const f = await fixture(t, { encryption })
    const { hybrid } = f.torrents
    const seed = await startLibtorrentSeed([{ torrentFile: writeTorrentFile(hybrid, tempDir(t)), saveDir: f.source }])
    t.teardown(async () => { await seed.close() })
    const connected = new Promise<string>((resolve) => f.seeder.on('peer-connected', (event) => { if (event.direction === 'outgoing') resolve(event.infoHash) }))
    const refused = new Promise<DisconnectReason>((resolve) => f.seeder.on('peer-refused', (event) => { if (event.direction === 'outgoing') resolve(event.reason) }))
    f.seeder.connectTo(hybrid.metainfo.infoHash, { ip: '127.0.0.1', port: seed.port })
    const outcome = await Promise.race([connected, refused.then((reason) => `refused: ${reason}`)])
    t.is(outcome, hybrid.metainfo.infoHash, 'libtorrent joined the hybrid\'s swarm')
  })
}

test('a hashes answer goes out at once and is charged to the peer\'s upload limit: blocks asked after it wait until the limit has paid it back', async (t) => {
  const source = tempDir(t)
  mkdirSync(join(source, 'rate'))
  // 1,025 pieces of 16 KiB: the piece layer is the leaves, and 1,024 of its hashes are a 32 KiB answer.
  sparseFile(join(source, 'rate', 'big.bin'), 1024 * 16 * KiB + 1)
  writeTree(source, { 'rate/small.bin': 1000 })
  const torrent = await publish(join(source, 'rate'), { pieceLength: 16 * KiB, format: 'v2' })
  let offset = 0
  const start = performance.now()
  // 16 KiB/s: the bucket holds one block; the clock moves only when the test says.
  const { seeder } = await startSeeder(t, [torrent], { now: () => start + offset, peerUploadRateLimit: 16 * KiB })
  const unchoked = async (): Promise<RawPeer> => {
    const peer = await RawPeer.connect(seeder.port)
    t.teardown(() => { peer.destroy() })
    peer.sendHandshake(torrent.metainfo.infoHash, { fast: true, v2: true })
    peer.sendMessage(MESSAGE.interested)
    await peer.waitFor((message) => message.id === MESSAGE.unchoke)
    return peer
  }
  const root = rootOf(torrent, 0)
  const control = await unchoked()
  control.sendMessage(MESSAGE.request, 0, 0, 16 * KiB)
  await control.waitFor((message) => message.id === MESSAGE.piece)

  const asker = await unchoked()
  asker.write(hashRequest(root, 0, 0, 1024, 0))
  const hashes = await asker.waitFor((message) => message.id === MESSAGE.hashes)
  t.is(hashes.payload.length, 48 + 1024 * 32, 'the answer went out with the clock stopped')
  asker.sendMessage(MESSAGE.request, 1, 0, 16 * KiB)
  await new Promise((resolve) => setTimeout(resolve, 300))
  t.is(asker.messages.filter((message) => message.id === MESSAGE.piece).length, 0, 'the block waits: the answer put the peer\'s bucket 32 KiB in debt')
  offset += 4000
  asker.sendMessage(MESSAGE.request, 2, 0, 16 * KiB)
  await asker.waitFor((message) => message.id === MESSAGE.piece)
})
