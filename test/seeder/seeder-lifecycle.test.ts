import { randomBytes } from 'node:crypto'
import { createSocket } from 'node:dgram'
import { createServer } from 'node:net'
import { utimesSync, statSync } from 'node:fs'
import { join } from 'node:path'
import test, { type ExecutionContext } from 'ava'
import type { PublishedTorrent } from '../../appliance/catalog/catalog.js'
import { buildMetainfo } from '../../appliance/metainfo/metainfo.js'
import { LSD_GROUP, parseLsdAnnounce } from '../../appliance/seeder/lsd-message.js'
import { SeederError } from '../../appliance/seeder/errors.js'
import { Seeder } from '../../appliance/seeder/seeder.js'
import type { DisconnectReason } from '../../appliance/seeder/seeder-events.js'
import { seederOptionsFrom } from '../../appliance/seeder/seeder-options.js'
import { sha256, writeTree } from '../helpers/content.js'
import { DEFAULTS } from '../helpers/defaults.js'
import { tempDir } from '../helpers/temp-dir.js'
import { contentOf, publish } from './fixtures.js'
import { downloadWithWire, MESSAGE, RawPeer } from './peers.js'
import { startSeeder } from './start-seeder.js'

const KiB = 1024

async function item (t: ExecutionContext, name: string, bytes = 600 * KiB): Promise<PublishedTorrent> {
  const source = tempDir(t)
  writeTree(source, { [`${name}/data.bin`]: bytes, [`${name}/more.bin`]: 1000 })
  return await publish(join(source, name), { pieceLength: 32 * KiB })
}

async function joined (port: number, torrent: PublishedTorrent): Promise<RawPeer> {
  const peer = await RawPeer.connect(port)
  peer.sendHandshake(torrent.metainfo.infoHash)
  await peer.waitFor((message) => message.id === MESSAGE.bitfield)
  return peer
}

function ends (seeder: Seeder): Array<{ port: number, reason: DisconnectReason }> {
  const list: Array<{ port: number, reason: DisconnectReason }> = []
  const record = (event: { address: string, reason: DisconnectReason }): void => { list.push({ port: Number(event.address.split(':').at(-1)), reason: event.reason }) }
  seeder.on('peer-refused', record)
  seeder.on('peer-disconnected', record)
  return list
}

test('start listens on an ephemeral port; close ends every peer, frees the port and is idempotent', async (t) => {
  const torrent = await item(t, 'one')
  const { seeder } = await startSeeder(t, [torrent])
  const ended = ends(seeder)
  t.true(seeder.port > 0)
  const peers = await Promise.all([joined(seeder.port, torrent), joined(seeder.port, torrent)])
  t.is(seeder.stats().peers, 2)
  await seeder.close()
  await seeder.close()
  for (const peer of peers) t.true(await peer.closedWithin())
  t.deepEqual(ended.map((end) => end.reason), ['shutdown', 'shutdown'])
  t.is(seeder.stats().connections, 0)
  const again = createServer()
  await new Promise<void>((resolve, reject) => again.once('error', reject).listen(seeder.port, '127.0.0.1', resolve))
  await new Promise((resolve) => again.close(resolve))
  await t.throwsAsync(async () => await seeder.start(), { instanceOf: SeederError, code: 'ET_STATE' })
})

test('a port in use gives ET_LISTEN', async (t) => {
  const { seeder, catalog } = await startSeeder(t, [])
  const second = new Seeder({ ...seederOptionsFrom(DEFAULTS), catalog, port: seeder.port, host: '127.0.0.1', lsd: false })
  const error = await t.throwsAsync(async () => await second.start())
  t.is((error as SeederError).code, 'ET_LISTEN')
  await second.close()
})

test('removing a torrent from the catalog disconnects its peers only, and refuses it from then on', async (t) => {
  const [first, second] = await Promise.all([item(t, 'first'), item(t, 'second')])
  const { seeder, catalog } = await startSeeder(t, [first!, second!])
  const ended = ends(seeder)
  const [a, b] = await Promise.all([joined(seeder.port, first!), joined(seeder.port, second!)])
  catalog.remove(first!.metainfo.infoHash)
  t.true(await a!.closedWithin())
  t.false(b!.isClosed)
  t.deepEqual(ended, [{ port: a!.port, reason: 'torrent-removed' }])
  const late = await RawPeer.connect(seeder.port)
  late.sendHandshake(first!.metainfo.infoHash)
  t.true(await late.closedWithin())
  t.deepEqual(ended.at(-1), { port: late.port, reason: 'unknown-torrent' })
  t.is(sha256(await downloadWithWire(seeder.port, second!)), sha256(contentOf(second!)))
  b!.destroy()
})

test('a file changed on disk: torrent-error, its peers dropped, refused until published again', async (t) => {
  const torrent = await item(t, 'changing')
  const { seeder, catalog } = await startSeeder(t, [torrent], { readAheadBytes: 16 * KiB })
  const ended = ends(seeder)
  const errors: unknown[] = []
  seeder.on('torrent-error', (event) => errors.push(event))
  const peer = await joined(seeder.port, torrent)
  peer.sendMessage(MESSAGE.interested)
  await peer.waitFor((message) => message.id === MESSAGE.unchoke)
  peer.sendMessage(MESSAGE.request, 0, 0, 16 * KiB)
  const first = await peer.waitFor((message) => message.id === MESSAGE.piece)
  t.true(first.payload.subarray(8).equals(contentOf(torrent).subarray(0, 16 * KiB)))

  const path = torrent.files.at(0)!.absolutePath
  utimesSync(path, new Date(), new Date(Date.now() + 60_000))
  peer.sendMessage(MESSAGE.request, 5, 0, 16 * KiB)
  t.true(await peer.closedWithin())
  t.is(peer.messages.filter((message) => message.id === MESSAGE.piece).length, 1, 'nothing from the changed file')
  t.deepEqual(errors, [{ infoHash: torrent.metainfo.infoHash, code: 'ET_FILE_CHANGED', message: (errors[0] as { message: string }).message, path }])
  t.deepEqual(ended, [{ port: peer.port, reason: 'torrent-error' }])
  t.deepEqual(seeder.stats().torrents.find((entry) => entry.infoHash === torrent.metainfo.infoHash)?.error, 'ET_FILE_CHANGED')

  const refused = await RawPeer.connect(seeder.port)
  refused.sendHandshake(torrent.metainfo.infoHash)
  t.true(await refused.closedWithin())
  t.is(ended.at(-1)?.reason, 'torrent-error')

  // The library republishes it (here: same content, new mtime), and it is served again.
  catalog.add({ ...torrent, files: Array.from(torrent.files, (file) => ({ ...file, mtimeMs: statSync(file.absolutePath).mtimeMs })) })
  t.is(sha256(await downloadWithWire(seeder.port, torrent)), sha256(contentOf(torrent)))
  t.is(seeder.stats().torrents.find((entry) => entry.infoHash === torrent.metainfo.infoHash)?.error, undefined)
})

test('connection limits: global, then per torrent', async (t) => {
  const [first, second] = await Promise.all([item(t, 'first'), item(t, 'second')])
  const { seeder } = await startSeeder(t, [first!, second!], { maxConnections: 3, maxConnectionsPerTorrent: 2 })
  const ended = ends(seeder)
  const a = await joined(seeder.port, first!)
  const b = await joined(seeder.port, first!)
  const c = await RawPeer.connect(seeder.port)
  c.sendHandshake(first!.metainfo.infoHash)
  t.true(await c.closedWithin(), 'third peer of one torrent')
  t.deepEqual(ended, [{ port: c.port, reason: 'connection-limit' }])
  const d = await joined(seeder.port, second!)
  const e = await RawPeer.connect(seeder.port)
  t.true(await e.closedWithin(), 'fourth connection')
  t.is(ended.at(-1)?.reason, 'connection-limit')
  for (const peer of [a, b, d]) t.false(peer.isClosed)
  for (const peer of [a, b, d]) peer.destroy()
})

test('the upload slots: beyond them, interested peers wait choked', async (t) => {
  const torrent = await item(t, 'slots')
  const { seeder } = await startSeeder(t, [torrent], { uploadSlots: 1 })
  const peers = await Promise.all([0, 1, 2].map(async () => await joined(seeder.port, torrent)))
  for (const peer of peers) peer.sendMessage(MESSAGE.interested)
  // One regular slot plus the optimistic one.
  await Promise.any(peers.map(async (peer) => await peer.waitFor((message) => message.id === MESSAGE.unchoke)))
  await new Promise((resolve) => setTimeout(resolve, 200))
  t.is(peers.filter((peer) => peer.messages.some((message) => message.id === MESSAGE.unchoke)).length, 2)
  t.is(seeder.stats().unchoked, 2)
  for (const peer of peers) peer.destroy()
})

test('the global upload rate limit holds (lower bound on the time taken)', async (t) => {
  const torrent = await item(t, 'slow', 1536 * KiB)
  const { seeder } = await startSeeder(t, [torrent], { uploadRateLimit: 1024 * KiB })
  const started = performance.now()
  t.is(sha256(await downloadWithWire(seeder.port, torrent)), sha256(contentOf(torrent)))
  const seconds = (performance.now() - started) / 1000
  // 1.5 MiB at 1 MiB/s, of which the first half second's worth may go at once.
  t.true(seconds >= 0.9, `took ${seconds.toFixed(2)} s`)
})

test('1,000 published torrents cost nothing until a peer comes, and all are announced over LSD', async (t) => {
  const torrents: PublishedTorrent[] = Array.from({ length: 1000 }, (_, i) => ({
    metainfo: buildMetainfo({ name: `item ${i}`, pieceLength: 16 * KiB, pieces: randomBytes(20 * 64), files: [{ path: [], length: 64 * 16 * KiB }] }),
    files: [{ absolutePath: `/nonexistent/item ${i}`, size: 64 * 16 * KiB, mtimeMs: 0, ino: 0 }]
  }))
  // 1,000 announces come as a burst of 40 datagrams: room for all of them.
  const probe = createSocket({ type: 'udp4', reuseAddr: true, recvBufferSize: 1 << 20 })
  t.teardown(() => probe.close())
  await new Promise<void>((resolve) => probe.bind(0, () => resolve()))
  const lsdPort = probe.address().port
  probe.addMembership(LSD_GROUP, '127.0.0.1')
  const announced = new Set<string>()
  const all = new Promise<void>((resolve) => probe.on('message', (message) => {
    for (const infoHash of parseLsdAnnounce(message)?.infoHashes ?? []) announced.add(infoHash)
    if (announced.size === 1000) resolve()
  }))
  const { seeder } = await startSeeder(t, torrents, { lsd: { port: lsdPort, interfaceAddress: '127.0.0.1', acceptAnnounces: false } })
  t.deepEqual(seeder.stats().torrents, [])
  const last = torrents.at(-1)!
  const peer = await joined(seeder.port, last)
  t.deepEqual(seeder.stats().torrents, [{ infoHash: last.metainfo.infoHash, peers: 1, uploadedBytes: 0 }])
  peer.destroy()
  let timer: NodeJS.Timeout | undefined
  await Promise.race([all, new Promise((resolve) => { timer = setTimeout(resolve, 15_000) })])
  clearTimeout(timer)
  t.is(announced.size, 1000)
})
