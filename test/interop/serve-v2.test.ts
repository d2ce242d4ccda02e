import test, { type ExecutionContext } from 'ava'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseTorrent } from '../../appliance/metainfo/metainfo.js'
import type { TorrentFormat } from '../../appliance/metainfo/torrent-format.js'
import { writePseudoRandomFile, writeTree } from '../helpers/content.js'
import { ServeProcess, type LogLine } from '../helpers/serve-process.js'
import { tempDir } from '../helpers/temp-dir.js'
import type { DownloadRequest } from './clients/downloader.js'
import { downloadWithWireReport, type WireReport } from './clients/libtorrent.js'
import { qbittorrentDownloader } from './clients/qbittorrent.js'
import { sha256Tree } from './clients/sha256-tree.js'
import { magnetWithoutWebSeeds, torrentWithoutWebSeeds } from './clients/without-web-seeds.js'
import { MESSAGE, RawPeer } from '../seeder/peers.js'
import type { Metainfo } from '../../appliance/metainfo/metainfo.js'

// libtorrent 2.0.8 downloads a hybrid and a v2-only item that `evertorrent serve` made, from the
// everseed alone (web seeds stripped), over the BEP 52 wire: the tracker hands the everseed under the
// truncated v2 infohash, libtorrent dials it with that hash (or a hybrid's v1 one and the v2 bit,
// which the everseed upgrades), the everseed answers with the truncated v2 hash and the v2 bit. By
// magnet, libtorrent has no piece layers (BEP 9 metadata holds the info dictionary only), so it asks
// for every file's piece layer with hash requests. Completing is no proof that they were answered:
// libtorrent can also check a whole file against its pieces root once it has every block (with every
// hash request rejected it still completes, after some 1,250 rejects). libtorrent's peer log tells
// what it saw (lt_client.py --wire-report): hashes received, no rejects, no failed pieces.
// qBittorrent 4.5.2 (libtorrent 2.0 inside) downloads the v2-only item too.

const timeoutMs = 120_000
const MiB = 1024 * 1024

interface Served {
  readonly serve: ServeProcess
  readonly root: string
  readonly library: Record<string, string>
  readonly line: LogLine
}

/**
 * One item of several files, at least one larger than several pieces and one smaller than a piece.
 * The v2 item's 34 MiB make the piece-length rule pick 32 KiB pieces (the piece layer is layer 1, and
 * its 1,000-odd pieces take libtorrent three hash requests of 512); the hybrid's 16 KiB pieces put the
 * piece layer on the leaves.
 */
async function serveItem (t: ExecutionContext, format: TorrentFormat, name = `${format} album`): Promise<Served> {
  const root = tempDir(t, `evertorrent-serve-${format}-`)
  const library = join(root, 'library')
  const item = join(library, name)
  writeTree(library, {
    [`${name}/disc 2/two.bin`]: 700_001,
    [`${name}/notes.txt`]: `published as a ${format} torrent`,
    [`${name}/zz.bin`]: 40_000
  })
  await writePseudoRandomFile(join(item, 'one.bin'), format === 'v2' ? 34 * MiB + 5 : MiB + 3, `${name} one`)
  const serve = await ServeProcess.start(t, { libraries: [library], stateDir: join(root, 'state'), settings: { 'hashing.format': format } })
  const [line] = await serve.waitForCount((entry) => entry.msg === 'published', 1, 60_000)
  return { serve, root, library: await sha256Tree(library), line: line! }
}

async function download (t: ExecutionContext, served: Served, source: 'torrent' | 'magnet'): Promise<WireReport> {
  const label = `libtorrent via ${source}`
  const saveDir = join(served.root, 'downloads', label)
  await mkdir(saveDir, { recursive: true })
  let request: DownloadRequest
  if (source === 'magnet') {
    request = { magnet: magnetWithoutWebSeeds(served.line.magnet!), saveDir, timeoutMs }
  } else {
    const torrentFile = join(served.root, `${label}.torrent`)
    await writeFile(torrentFile, torrentWithoutWebSeeds(await readFile(served.line.torrent!)))
    request = { torrentFile, saveDir, timeoutMs }
  }
  try {
    const report = await downloadWithWireReport(request)
    t.log(`${label}: ${JSON.stringify(report)}`)
    t.deepEqual(await sha256Tree(saveDir), served.library, `${label}: the downloaded bytes are the published ones`)
    return report
  } catch (error) {
    t.log(`--- evertorrent serve ---\n${served.serve.describe()}`)
    throw error
  }
}

function hashRequest (root: Uint8Array, base: number, index: number, length: number, proofLayers: number): Buffer {
  const frame = Buffer.alloc(4 + 49)
  frame.writeUInt32BE(49, 0)
  frame[4] = MESSAGE.hashRequest
  frame.set(root, 5)
  ;[base, index, length, proofLayers].forEach((value, at) => frame.writeUInt32BE(value, 37 + at * 4))
  return frame
}

/**
 * A peer from another address that handshakes as a v2 peer and keeps sending hash requests no tree
 * can answer (an unknown root, past the layer, a huge length, proof layers above the root) until
 * `stop`; then checks each got its hash reject and the connection is still open.
 */
async function hostileHashPeer (t: ExecutionContext, served: Served, metainfo: Metainfo): Promise<{ stop: () => Promise<void> }> {
  const peer = await RawPeer.connect(served.serve.peerPort, '127.0.0.2')
  t.teardown(() => { peer.destroy() })
  peer.sendHandshake(metainfo.infoHash, { fast: true, v2: true })
  await peer.waitFor((message) => message.id === MESSAGE.haveAll)
  t.is(peer.handshake![27]! & 0x10, 0x10, 'the everseed\'s handshake has the BEP 52 bit')
  const root = metainfo.piecesRoots!.subarray(0, 32)
  const bad = [
    hashRequest(Buffer.alloc(32, 0xee), 1, 0, 512, 10),
    hashRequest(root, 1, 4096, 2, 0),
    hashRequest(root, 1, 0, 0xfffffff0, 0),
    hashRequest(root, 1, 0, 512, 63)
  ]
  let sent = 0
  const timer = setInterval(() => {
    peer.write(Buffer.concat(bad))
    sent += bad.length
  }, 20)
  return {
    stop: async () => {
      clearInterval(timer)
      const rejects = (): number => peer.messages.filter((message) => message.id === MESSAGE.hashReject).length
      await peer.waitFor(() => rejects() === sent, 30_000)
      t.true(sent > 0)
      t.is(peer.messages.filter((message) => message.id === MESSAGE.hashes).length, 0, 'no hashes for any of them')
      t.false(peer.isClosed, 'the hostile peer is still connected: a hash reject is no reason to end it')
      peer.destroy()
    }
  }
}

test('libtorrent downloads a v2-only item from the everseed alone, by .torrent and by btmh magnet (piece layers fetched with hash requests)', async (t) => {
  const served = await serveItem(t, 'v2')
  const torrent = parseTorrent(await readFile(served.line.torrent!))
  t.is(torrent.format, 'v2')
  t.is(torrent.pieceLength, 32 * 1024, 'the piece layer is not the leaf layer')
  t.is(served.line.infohash, torrent.infoHashV2!.slice(0, 40), 'published under its truncated v2 infohash')
  t.regex(served.line.magnet!, /^magnet:\?xt=urn:btmh:1220[0-9a-f]{64}/)
  t.notRegex(served.line.magnet!, /btih/)

  const byTorrent = await download(t, served, 'torrent')
  t.true(byTorrent.v2_handshakes > 0, 'the everseed set the BEP 52 bit')
  t.is(byTorrent.hash_failures, 0)

  // Meanwhile a hostile peer keeps asking for hashes no tree has.
  const hostile = await hostileHashPeer(t, served, torrent)
  const byMagnet = await download(t, served, 'magnet')
  await hostile.stop()
  t.true(byMagnet.v2_handshakes > 0)
  t.true(byMagnet.hashes_received >= 3, 'the piece layer of one.bin (over 1,000 pieces) came in hashes messages, 512 at a time')
  t.is(byMagnet.hash_rejects_received, 0)
  t.is(byMagnet.hash_failures, 0)
  t.true(served.serve.running)
})

test('libtorrent downloads a hybrid item from the everseed alone over the v2 wire, by .torrent and by magnet', async (t) => {
  const served = await serveItem(t, 'hybrid')
  const torrent = parseTorrent(await readFile(served.line.torrent!))
  t.is(torrent.format, 'hybrid')
  t.regex(served.line.magnet!, /xt=urn:btmh:1220[0-9a-f]{64}/)
  for (const source of ['torrent', 'magnet'] as const) {
    const report = await download(t, served, source)
    t.true(report.v2_handshakes > 0, `${source}: the everseed set the BEP 52 bit`)
    t.is(report.hash_failures, 0, source)
    t.is(report.hash_rejects_received, 0, source)
    // Dialled with the v1 infohash and the BEP 52 bit, the everseed upgraded the connection (answered
    // with the truncated v2 infohash): libtorrent then fetched the piece layers it lacked.
    if (source === 'magnet') t.true(report.hashes_received > 0, 'the piece layers came in hashes messages')
  }
  t.true(served.serve.running)
})

test('qBittorrent 4.5.2 downloads a v2-only item from the everseed alone, by .torrent and by btmh magnet', async (t) => {
  // An item of its own: no other test's serve publishes its infohash.
  const served = await serveItem(t, 'v2', 'v2 album for qBittorrent')
  for (const source of ['torrent', 'magnet'] as const) {
    const saveDir = join(served.root, 'downloads', `qBittorrent via ${source}`)
    await mkdir(saveDir, { recursive: true })
    let request: DownloadRequest = { magnet: magnetWithoutWebSeeds(served.line.magnet!), saveDir, timeoutMs }
    if (source === 'torrent') {
      const torrentFile = join(served.root, 'qBittorrent.torrent')
      await writeFile(torrentFile, torrentWithoutWebSeeds(await readFile(served.line.torrent!)))
      request = { torrentFile, saveDir, timeoutMs }
    }
    await qbittorrentDownloader.download(request)
    t.deepEqual(await sha256Tree(saveDir), served.library, `qBittorrent via ${source}: the downloaded bytes are the published ones`)
  }
  t.true(served.serve.running)
})
