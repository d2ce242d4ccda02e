import { readFileSync } from 'node:fs'
import { createServer, type Socket } from 'node:net'
import { once } from 'node:events'
import { open } from 'node:fs/promises'
import { join } from 'node:path'
import test, { type ExecutionContext } from 'ava'
import type { PublishedTorrent } from '../../appliance/catalog/catalog.js'
import type { OpenFile } from '../../appliance/seeder/file-handle-cache.js'
import type { Seeder } from '../../appliance/seeder/seeder.js'
import type { DisconnectReason } from '../../appliance/seeder/seeder-events.js'
import { REPLACE_AFTER_MS } from '../../appliance/seeder/replacement.js'
import type { SeederOptions } from '../../appliance/seeder/seeder-options.js'
import { sha256, writeTree } from '../helpers/content.js'
import { tempDir } from '../helpers/temp-dir.js'
import { contentOf, publish, writeTorrentFile } from './fixtures.js'
import { HostileCrowd, otherHosts } from './hostile-peers.js'
import { ltDownload } from './lt-download.js'
import { downloadWithWire, MESSAGE, RawPeer, peerThatStopsReading } from './peers.js'
import { startSeeder } from './start-seeder.js'

const KiB = 1024
const MiB = 1024 * KiB

async function item (t: ExecutionContext, bytes: number, pieceLength = 256 * KiB): Promise<PublishedTorrent> {
  const source = tempDir(t)
  writeTree(source, { 'item.bin': bytes })
  return await publish(join(source, 'item.bin'), { pieceLength })
}

/** How many connections ended for each reason, refused or disconnected. */
function endings (seeder: Seeder): Map<DisconnectReason, number> {
  const counts = new Map<DisconnectReason, number>()
  const count = ({ reason }: { reason: DisconnectReason }): void => { counts.set(reason, (counts.get(reason) ?? 0) + 1) }
  seeder.on('peer-refused', count)
  seeder.on('peer-disconnected', count)
  return counts
}

async function until (check: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** libtorrent downloads `torrent` from the seeder alone (from 127.0.0.1); the bytes must be the content. */
async function libtorrentGets (t: ExecutionContext, seeder: Seeder, torrent: PublishedTorrent, timeoutSeconds = 90): Promise<void> {
  const target = tempDir(t)
  const result = await ltDownload(writeTorrentFile(torrent, tempDir(t)), target, [`127.0.0.1:${seeder.port}`], timeoutSeconds)
  t.true(result.ok, JSON.stringify(result))
  t.is(sha256(readFileSync(join(target, torrent.metainfo.name))), sha256(contentOf(torrent)))
}

const hostileFromOneAddress = test.macro(async (t, options: Partial<SeederOptions>, kept: number) => {
  const torrent = await item(t, 16 * MiB)
  const { seeder } = await startSeeder(t, [torrent], options)
  const ended = endings(seeder)
  const crowd = new HostileCrowd(t, seeder.port)
  // Three idle, two non-reading, and again: both kinds among those that get in. Each is opened
  // again when the seeder closes it, as an attacker would.
  for (let i = 0; i < 100; i++) {
    if (i % 5 < 3) await crowd.idle(torrent.metainfo.infoHash, '127.0.0.2', true)
    else await crowd.nonReading(torrent.metainfo, '127.0.0.2', true)
  }
  await until(() => seeder.stats().peers >= kept, `${kept} of them are in the swarm`)
  // An attacker's connections are not all brand new when a downloader comes (a real client refused
  // once waits a minute before it tries again).
  await new Promise((resolve) => setTimeout(resolve, REPLACE_AFTER_MS))

  await libtorrentGets(t, seeder, torrent)
  t.log(Object.fromEntries(ended))
})

test('libtorrent downloads while 60 idle and 40 non-reading connections come from one address (default limits)', hostileFromOneAddress, {}, 8)

test('libtorrent downloads while 60 idle and 40 non-reading connections from one address fill the torrent (no per-address limit)', hostileFromOneAddress, { maxConnectionsPerAddress: 1000 }, 50)

test('one address gets no more than its connections, incoming and outgoing together; another address still gets in', async (t) => {
  const [first, second] = await Promise.all([item(t, 1 * MiB, 64 * KiB), item(t, 1 * MiB, 64 * KiB)])
  const { seeder } = await startSeeder(t, [first!, second!], { maxConnectionsPerAddress: 3 })
  const ended = endings(seeder)
  const crowd = new HostileCrowd(t, seeder.port)
  for (let i = 0; i < 5; i++) await crowd.idle(first!.metainfo.infoHash, '127.0.0.2')
  await until(() => seeder.stats().connections === crowd.open, 'the seeder has dealt with every connection')
  t.is(crowd.open, 3)
  t.is(ended.get('address-limit'), 2)

  // Outgoing connections count too: a peer of 127.0.0.2 announced for the other torrent is not dialled.
  const dialled: Socket[] = []
  const listener = createServer((socket) => dialled.push(socket))
  listener.listen(0, '127.0.0.2')
  await once(listener, 'listening')
  t.teardown(() => { for (const socket of dialled) socket.destroy(); listener.close() })
  seeder.connectTo(second!.metainfo.infoHash, { ip: '127.0.0.2', port: (listener.address() as { port: number }).port })
  const other = await crowd.idle(first!.metainfo.infoHash, '127.0.0.3')
  await other.waitFor((message) => message.id === MESSAGE.bitfield)
  t.is(dialled.length, 0)
  t.is(crowd.open, 4)
})

test('50 idle peers from several addresses do not keep a downloader out of a full torrent: it takes the place of one', async (t) => {
  const torrent = await item(t, 8 * MiB)
  const { seeder } = await startSeeder(t, [torrent])
  const ended = endings(seeder)
  const crowd = new HostileCrowd(t, seeder.port)
  const hosts = otherHosts(7)
  for (let i = 0; i < 50; i++) await crowd.idle(torrent.metainfo.infoHash, hosts[i % hosts.length]!)
  await until(() => seeder.stats().peers === 50, 'the torrent is full')
  await new Promise((resolve) => setTimeout(resolve, REPLACE_AFTER_MS))

  await libtorrentGets(t, seeder, torrent)
  t.is(ended.get('replaced'), 1, 'one idle peer made room')
  t.is(crowd.open, 49)
})

test('200 silent connections, opened again as soon as they close, do not keep a downloader out of a full seeder', async (t) => {
  const torrent = await item(t, 8 * MiB)
  const { seeder } = await startSeeder(t, [torrent])
  const ended = endings(seeder)
  const crowd = new HostileCrowd(t, seeder.port)
  const hosts = otherHosts(25)
  for (let i = 0; i < 200; i++) await crowd.silent(hosts[i % hosts.length]!, true)
  await until(() => seeder.stats().connections === 200, 'the seeder is full')

  await libtorrentGets(t, seeder, torrent)
  t.true((ended.get('replaced') ?? 0) >= 1, 'a silent connection made room')
})

test('the handshake must come within handshakeMs', async (t) => {
  const torrent = await item(t, 1 * MiB, 64 * KiB)
  const { seeder } = await startSeeder(t, [torrent], { handshakeMs: 300 })
  const ended = endings(seeder)
  const peer = await RawPeer.connect(seeder.port)
  t.true(await peer.closedWithin(5_000))
  await until(() => ended.get('timeout') === 1, 'the timeout is reported')
})

test('peers that stop reading lose their slots within stallMs to a peer that reads, and are disconnected after stallDisconnectMs', async (t) => {
  // More than the kernel's loopback socket buffers take, so the blocks of the peers that stop reading pile up in the seeder.
  const torrent = await item(t, 24 * MiB)
  const { seeder } = await startSeeder(t, [torrent], { uploadSlots: 1, stallMs: 300, stallDisconnectMs: 15_000, maxOutstandingRequests: 2000 })
  const disconnected: DisconnectReason[] = []
  seeder.on('peer-disconnected', ({ reason }) => disconnected.push(reason))
  // The regular slot and the optimistic one.
  const stuck = await Promise.all([1, 2].map(async () => await peerThatStopsReading(seeder.port, torrent)))
  t.teardown(() => { for (const peer of stuck) peer.destroy() })
  await until(() => stuck.every((peer) => peer.socket.bytesWritten > 0) && seeder.stats().queuedBytes > 0, 'blocks wait on their sockets')

  const content = await downloadWithWire(seeder.port, torrent, 32)
  t.true(content.equals(contentOf(torrent)), 'the peer that reads got every byte')
  t.deepEqual(disconnected.filter((reason) => reason !== 'peer-closed'), [], 'while the stalled peers were still connected')

  // The first one reads again: its slot had been taken away (a choke after its unchoke).
  stuck[0]!.socket.resume()
  await stuck[0]!.waitFor((message) => message.id === MESSAGE.choke)
  // The second never does, and is disconnected (it does not notice, reading nothing); its blocks come back to the pool.
  await until(() => disconnected.includes('send-stalled'), 'it is disconnected', 30_000)
  t.is(seeder.stats().peers, 1)
  stuck[0]!.destroy()
  await until(() => seeder.stats().queuedBytes === 0, 'every block is back in the pool')
})

test('a transient open error (EMFILE) refuses one request and leaves the torrent published; the next request is served', async (t) => {
  const torrent = await item(t, 1 * MiB, 64 * KiB)
  let opens = 0
  const outOfDescriptors: OpenFile = async (path) => {
    if (++opens === 1) throw Object.assign(new Error('EMFILE: too many open files, open'), { code: 'EMFILE' })
    return await open(path, 'r')
  }
  const { seeder } = await startSeeder(t, [torrent], { openFile: outOfDescriptors })
  const errors: unknown[] = []
  const warnings: string[] = []
  seeder.on('torrent-error', (event) => errors.push(event))
  seeder.on('warning', (event) => warnings.push(event.code))
  const peer = await RawPeer.connect(seeder.port)
  t.teardown(() => peer.destroy())
  peer.sendHandshake(torrent.metainfo.infoHash, { fast: true })
  peer.sendMessage(MESSAGE.interested)
  await peer.waitFor((message) => message.id === MESSAGE.unchoke)

  peer.sendMessage(MESSAGE.request, 0, 0, 16 * KiB)
  const reject = await peer.waitFor((message) => message.id === MESSAGE.reject || message.id === MESSAGE.piece)
  t.is(reject.id, MESSAGE.reject, 'BEP 6: the request is rejected')
  t.deepEqual([reject.payload.readUInt32BE(0), reject.payload.readUInt32BE(4), reject.payload.readUInt32BE(8)], [0, 0, 16 * KiB])

  peer.sendMessage(MESSAGE.request, 0, 0, 16 * KiB)
  const piece = await peer.waitFor((message) => message.id === MESSAGE.piece)
  t.true(piece.payload.subarray(8).equals(contentOf(torrent).subarray(0, 16 * KiB)))
  t.false(peer.isClosed)
  t.deepEqual(errors, [])
  t.deepEqual(warnings, ['ET_TRANSIENT'])
  t.is(seeder.stats().torrents[0]?.error, undefined)
})
