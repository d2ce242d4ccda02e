import test, { type ExecutionContext } from 'ava'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { DownloadResult, PeerEndpoint } from '../../appliance/download/download.js'
import { DownloadError } from '../../appliance/download/download-errors.js'
import { parseTorrent, type InfoHash } from '../../appliance/metainfo/metainfo.js'
import { writeTree } from '../helpers/content.js'
import { ServeProcess } from '../helpers/serve-process.js'
import { tempDir } from '../helpers/temp-dir.js'
import { sha256Tree } from '../interop/clients/sha256-tree.js'
import { torrentWithoutWebSeeds } from '../interop/clients/without-web-seeds.js'
import { startHostileSeed, watchDownload } from './peers.js'

/** A multi-file item with odd sizes (pieces span files), published by a real `evertorrent serve`. */
async function publishedAlbum (t: ExecutionContext, sizes: Readonly<Record<string, number>> = { 'album/one.bin': 3_000_001, 'album/deep/two.bin': 1_500_000, 'album/three.txt': 70_000 }): Promise<{ serve: ServeProcess, torrent: Buffer, infoHash: InfoHash, library: string, root: string }> {
  const root = tempDir(t)
  const library = join(root, 'library')
  writeTree(library, sizes)
  const serve = await ServeProcess.start(t, { libraries: [library], stateDir: join(root, 'state') })
  const published = await serve.waitFor((line) => line.msg === 'published', 120_000)
  return { serve, torrent: await readFile(published.torrent!), infoHash: published.infohash! as InfoHash, library, root }
}

function everseed (serve: ServeProcess): PeerEndpoint {
  return { host: '127.0.0.1', port: serve.peerPort }
}

function completed (t: ExecutionContext, outcome: DownloadResult | DownloadError): DownloadResult {
  if (outcome instanceof DownloadError) t.fail(`the download failed: ${outcome.code} ${outcome.message}`)
  return outcome as DownloadResult
}

test('downloads an item from the real everseed over the peer wire (no web seed): every file has the same SHA-256', async (t) => {
  const { serve, torrent, infoHash, library, root } = await publishedAlbum(t)
  const folder = join(root, 'mirror')
  const watched = await watchDownload(t, { infoHash, metainfo: torrentWithoutWebSeeds(torrent), peers: [everseed(serve)], folder, resumePath: join(root, 'resume') })
  const result = completed(t, await watched.outcome)
  t.deepEqual(await sha256Tree(folder), await sha256Tree(library))
  t.deepEqual(result.files.map((file) => file.path).sort(), ['album/deep/two.bin', 'album/one.bin', 'album/three.txt'])
  t.is(result.receivedBytes >= parseTorrent(torrent).totalBytes, true)
})

test('downloads by infohash only: the info dictionary comes from the everseed over BEP 9 and hashes to the infohash', async (t) => {
  const { serve, infoHash, library, root } = await publishedAlbum(t)
  const folder = join(root, 'mirror')
  const watched = await watchDownload(t, { infoHash, peers: [everseed(serve)], folder, resumePath: join(root, 'resume') })
  const result = completed(t, await watched.outcome)
  t.is(result.metainfo.infoHash, infoHash)
  t.deepEqual(await sha256Tree(folder), await sha256Tree(library))
})

test('downloads from the everseed\'s BEP 19 web seed alone (no peer at all)', async (t) => {
  const { torrent, infoHash, library, root } = await publishedAlbum(t)
  t.true(parseTorrent(torrent).urlList.length > 0, 'serve puts its web seed in the torrent')
  const folder = join(root, 'mirror')
  const watched = await watchDownload(t, { infoHash, metainfo: torrent, peers: [], folder, resumePath: join(root, 'resume') })
  const result = completed(t, await watched.outcome)
  t.deepEqual(await sha256Tree(folder), await sha256Tree(library))
  t.deepEqual(watched.webSeedEvents, [])
  t.true(result.receivedBytes >= result.metainfo.totalBytes)
})

test('a peer that sends corrupt blocks is banned and its pieces come from the everseed: the result is right', async (t) => {
  const { serve, torrent, infoHash, library, root } = await publishedAlbum(t)
  const metainfo = parseTorrent(torrent)
  const hostile = await startHostileSeed(t, { host: '127.0.0.2', infoHash, pieceCount: metainfo.pieceCount, corrupt: true })
  const folder = join(root, 'mirror')
  // The hostile peer first: it is dialled first and answers at once.
  const watched = await watchDownload(t, { infoHash, metainfo: torrentWithoutWebSeeds(torrent), peers: [{ host: hostile.host, port: hostile.port }, everseed(serve)], folder, resumePath: join(root, 'resume') })
  completed(t, await watched.outcome)
  t.true(hostile.blocksSent() > 0, 'the hostile peer was asked for blocks')
  t.deepEqual(watched.banned, [`${hostile.host}:${hostile.port}`])
  t.deepEqual(await sha256Tree(folder), await sha256Tree(library))
})
