import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import test from 'ava'
import { magnetUri } from '../../appliance/metainfo/magnet.js'
import { sha256, writeTree } from '../helpers/content.js'
import { tempDir } from '../helpers/temp-dir.js'
import { publish, writeTorrentFile } from './fixtures.js'
import { ltDownload } from './lt-download.js'
import { startSeeder } from './start-seeder.js'

const KiB = 1024
const MiB = 1024 * KiB

/** sha256 of every file below `root` named in `written` (keys relative to root). */
function digests (root: string, written: Map<string, Buffer>): Record<string, string> {
  return Object.fromEntries([...written.keys()].map((relative) => [relative, sha256(readFileSync(join(root, ...relative.split('/'))))]))
}

function expected (written: Map<string, Buffer>): Record<string, string> {
  return Object.fromEntries([...written].map(([relative, bytes]) => [relative, sha256(bytes)]))
}

test('libtorrent downloads a multi-file torrent, and the cache stays within its budget', async (t) => {
  const source = tempDir(t)
  const written = writeTree(source, {
    'album/01.flac': 3 * MiB + 123,
    'album/02.flac': 1,
    'album/empty.txt': 0,
    'album/art/cover.jpg': 700 * KiB,
    'album/notes.txt': 'liner notes\n',
    'album/03.flac': 2 * MiB - 7
  })
  const torrent = await publish(join(source, 'album'), { pieceLength: 64 * KiB })
  const { seeder } = await startSeeder(t, [torrent], { cacheBytes: 1 * MiB })
  const target = tempDir(t)
  const result = await ltDownload(writeTorrentFile(torrent, tempDir(t)), target, [`127.0.0.1:${seeder.port}`])
  t.true(result.ok, JSON.stringify(result))
  t.is(result.hash_failures, 0)
  t.deepEqual(digests(target, written), expected(written))
  const stats = seeder.stats()
  t.is(stats.uploadedBytes, torrent.metainfo.totalBytes)
  t.true(stats.cachedBytes > 0 && stats.cachedBytes <= 1 * MiB, `cache holds ${stats.cachedBytes} bytes`)
})

test('libtorrent downloads a single-file torrent', async (t) => {
  const source = tempDir(t)
  const written = writeTree(source, { 'image.iso': 5 * MiB + 4321 })
  const torrent = await publish(join(source, 'image.iso'))
  const { seeder } = await startSeeder(t, [torrent])
  const uploads: number[] = []
  seeder.on('uploaded', (event) => { if (event.infoHash === torrent.metainfo.infoHash) uploads.push(event.bytes) })
  const target = tempDir(t)
  const result = await ltDownload(writeTorrentFile(torrent, tempDir(t)), target, [`127.0.0.1:${seeder.port}`])
  t.true(result.ok, JSON.stringify(result))
  t.deepEqual(digests(target, written), expected(written))
  await seeder.close()
  t.is(uploads.reduce((sum, bytes) => sum + bytes, 0), torrent.metainfo.totalBytes, "'uploaded' events add up to the content")
})

test('libtorrent downloads from a magnet link: the info dictionary comes over BEP 9 ut_metadata', async (t) => {
  const source = tempDir(t)
  // Enough files that the info dictionary is more than one 16 KiB metadata piece.
  const tree: Record<string, number> = {}
  for (let i = 0; i < 400; i++) tree[`library/shelf ${i % 7}/a book with a rather long title, volume ${i}.txt`] = 1000 + i
  const written = writeTree(source, tree)
  const torrent = await publish(join(source, 'library'), { pieceLength: 16 * KiB })
  t.true(torrent.metainfo.infoBytes.length > 16 * KiB)
  const { seeder } = await startSeeder(t, [torrent])
  const target = tempDir(t)
  const result = await ltDownload(magnetUri(torrent.metainfo), target, [`127.0.0.1:${seeder.port}`])
  t.true(result.ok, JSON.stringify(result))
  t.is(result.files.length, 400)
  t.deepEqual(digests(target, written), expected(written))
})
