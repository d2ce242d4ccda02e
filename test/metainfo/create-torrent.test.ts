import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { renameSync, truncateSync, utimesSync } from 'node:fs'
import { join } from 'node:path'
import test from 'ava'
import bencode from 'bencode'
import { listContent } from '../../appliance/metainfo/content.js'
import { createTorrent, createTorrentOf } from '../../appliance/metainfo/create-torrent.js'
import { MetainfoError } from '../../appliance/metainfo/errors.js'
import { encodeTorrent, parseTorrent } from '../../appliance/metainfo/metainfo.js'
import { pieceLengthFor } from '../../appliance/metainfo/piece-length.js'
import { sparseFile, writeTree } from '../helpers/content.js'
import { openDescriptors } from '../helpers/proc.js'
import { tempDir } from '../helpers/temp-dir.js'

const MiB = 1024 * 1024

function folder (t: Parameters<typeof tempDir>[0]): string {
  const root = join(tempDir(t), 'album')
  writeTree(root, { 'cover.jpg': 300_000, 'disc 1/01.flac': 2_500_000, 'disc 1/02.flac': 1_700_001, 'disc 2/01.flac': 900_000, 'notes.txt': '', '.DS_Store': 10 })
  return root
}

test('any thread count gives the same infohash and pieces', async (t) => {
  const root = folder(t)
  const runs = await Promise.all([1, 2, 3, undefined].map(async (threads) => await createTorrent(root, { pieceLength: 64 * 1024, ...(threads !== undefined && { threads }) })))
  const [first, ...rest] = runs.map((run) => run.metainfo)
  for (const other of rest) {
    t.is(other!.infoHash, first!.infoHash)
    t.true(other!.pieces.equals(first!.pieces))
  }
})

test('describes the content: name, files in order with offsets, default piece length', async (t) => {
  const root = folder(t)
  const { metainfo, content } = await createTorrent(root, { threads: 2 })
  t.is(metainfo.name, 'album')
  t.true(metainfo.isMultiFile)
  t.is(metainfo.totalBytes, 5_400_001)
  t.is(metainfo.pieceLength, pieceLengthFor(5_400_001))
  t.is(metainfo.pieceCount, Math.ceil(5_400_001 / metainfo.pieceLength))
  t.deepEqual([...metainfo.files].map((file) => [file.path.join('/'), file.length, file.offset]), [
    ['cover.jpg', 300_000, 0],
    ['disc 1/01.flac', 2_500_000, 300_000],
    ['disc 1/02.flac', 1_700_001, 2_800_000],
    ['disc 2/01.flac', 900_000, 4_500_001],
    ['notes.txt', 0, 5_400_001]
  ])
  t.deepEqual(content.skipped.map((entry) => entry.path), [join(root, '.DS_Store')])
})

test('passes every option through, and the .torrent reads back the same', async (t) => {
  const root = folder(t)
  const options = {
    name: 'Renamed',
    pieceLength: 16 * 1024,
    announceList: [['http://a.example/announce', 'http://b.example/announce'], ['udp://c.example:6969']],
    urlList: ['http://w.example/files/'],
    private: true,
    comment: 'hello',
    source: 'SRC',
    createdBy: 'evertorrent/test',
    creationDate: 1_700_000_000,
    threads: 3
  }
  const { metainfo } = await createTorrent(root, options)
  t.like(metainfo, { name: 'Renamed', pieceLength: 16 * 1024, announceList: options.announceList, urlList: options.urlList, private: true, comment: 'hello', source: 'SRC', createdBy: 'evertorrent/test', creationDate: 1_700_000_000 })
  t.deepEqual(parseTorrent(encodeTorrent(metainfo)), metainfo)
})

test('fields outside the info dictionary do not change the infohash', async (t) => {
  const root = folder(t)
  const plain = await createTorrent(root, { threads: 1 })
  const decorated = await createTorrent(root, { threads: 1, announceList: [['http://t.example/']], urlList: ['http://w.example/'], comment: 'c', createdBy: 'x', creationDate: 5 })
  const sourced = await createTorrent(root, { threads: 1, source: 'S' })
  t.is(decorated.metainfo.infoHash, plain.metainfo.infoHash)
  t.not(sourced.metainfo.infoHash, plain.metainfo.infoHash)
})

const badOptions: Record<string, Parameters<typeof createTorrent>[1]> = {
  'a piece length that is not a power of two': { pieceLength: 3000 },
  'a piece length below 16 KiB': { pieceLength: 8192 },
  'a piece length above 16 MiB': { pieceLength: 32 * MiB },
  'an empty name': { name: '' },
  'a name with a slash': { name: 'a/b' },
  'the name ..': { name: '..' },
  'an announce URL that is not a URL': { announceList: [['http://ok.example/'], ['not a url']] },
  'a web seed that is not a URL': { urlList: ['://nope'] },
  'a thread count of 0': { threads: 0 }
}

for (const [description, options] of Object.entries(badOptions)) {
  test(`${description} is ET_BAD_OPTION`, async (t) => {
    const error = await t.throwsAsync(createTorrent(folder(t), options), { instanceOf: MetainfoError })
    t.is(error?.code, 'ET_BAD_OPTION')
  })
}

test('a missing path is ET_PATH_MISSING and an empty folder ET_EMPTY', async (t) => {
  const base = tempDir(t)
  t.is((await t.throwsAsync(createTorrent(join(base, 'missing')), { instanceOf: MetainfoError }))?.code, 'ET_PATH_MISSING')
  t.is((await t.throwsAsync(createTorrent(base), { instanceOf: MetainfoError }))?.code, 'ET_EMPTY')
})

/*
 * Changing a file while it is hashed. The change happens on the first progress event, after the first
 * 1 MiB chunk; with one hashing thread the reader runs at most three chunks ahead, and the rest of a
 * 256 MiB file takes it a couple of hundred milliseconds, so the change always lands while the file is open.
 * Serial, so no other test keeps this process's event loop from handling the progress event at once.
 */
const changes: Record<string, (path: string, size: number) => void> = {
  'shrinks': (path) => truncateSync(path, 0),
  'grows': (path, size) => truncateSync(path, size + 1),
  'gets a new modification time (same size)': (path) => utimesSync(path, new Date(), new Date(Date.now() + 10_000))
}

for (const [description, change] of Object.entries(changes)) {
  test.serial(`a file that ${description} while it is hashed is ET_CHANGED`, async (t) => {
    const root = join(tempDir(t), 'content')
    const size = 256 * MiB
    sparseFile(join(root, 'big.img'), size)
    writeTree(root, { 'small.txt': 100 })
    let changedAt: number | undefined
    const error = await t.throwsAsync(createTorrent(root, {
      threads: 1,
      onProgress: ({ bytesHashed }) => {
        if (changedAt !== undefined) return
        changedAt = bytesHashed
        change(join(root, 'big.img'), size)
      }
    }), { instanceOf: MetainfoError })
    t.is(error?.code, 'ET_CHANGED')
    t.is(error?.path, join(root, 'big.img'))
    t.true(error?.message.includes(join(root, 'big.img')))
    t.true(changedAt! < size)
    t.deepEqual(await openDescriptors(process.pid, join(root, 'big.img')), [], 'the file is still open after the promise settled')
  })
}

test('a file replaced by another of the same size and mtime between listing and hashing is ET_CHANGED: its inode is not the one listed', async (t) => {
  const base = tempDir(t)
  const root = join(base, 'content')
  writeTree(base, { 'content/a.bin': 100_000, 'content/b.bin': 50_000, 'other.bin': 100_000 })
  const content = await listContent(root)
  const path = join(root, 'a.bin')
  execFileSync('touch', ['-r', path, join(base, 'other.bin')]) // the mtime to the nanosecond, which utimes cannot set
  renameSync(join(base, 'other.bin'), path)
  const error = await t.throwsAsync(createTorrentOf(content, { threads: 1 }), { instanceOf: MetainfoError })
  t.is(error?.code, 'ET_CHANGED')
  t.is(error?.path, path)
})

test('the info dictionary written from a listing is the one the bencode package writes from the same fields, byte for byte', async (t) => {
  const root = join(tempDir(t), 'mix')
  writeTree(root, { 'a/b/c.bin': 70_000, 'a-b': 3, 'é/日本 語.txt': 'x', '\uE000': 1, '\u{1F600}/z': 2, 'empty': '', 'n/0123456789.bin': 1_234_567 })
  const { metainfo, content } = await createTorrent(root, { pieceLength: 16_384, source: 'S', private: true })
  const reference = bencode.encode({
    files: [...content.files].map((file, index) => ({ length: file.size, path: content.files.segments(index) })),
    name: 'mix',
    'piece length': 16_384,
    pieces: metainfo.pieces,
    private: 1,
    source: 'S'
  })
  t.true(metainfo.infoBytes.equals(Buffer.from(reference)))
  t.is(metainfo.infoHash as string, createHash('sha1').update(reference).digest('hex'))
  t.deepEqual([...metainfo.files].map((file) => file.path.join('/')), ['\u{1F600}/z', 'a-b', 'a/b/c.bin', 'empty', 'n/0123456789.bin', 'é/日本 語.txt', '\uE000'].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))))
  t.deepEqual(parseTorrent(encodeTorrent(metainfo)).files, metainfo.files, 'read back from the .torrent, the same files')
})

test('a single file gives the same info dictionary as the bencode package', async (t) => {
  const root = tempDir(t)
  writeTree(root, { 'one.bin': 40_000 })
  const { metainfo } = await createTorrent(join(root, 'one.bin'), { pieceLength: 16_384 })
  const reference = bencode.encode({ length: 40_000, name: 'one.bin', 'piece length': 16_384, pieces: metainfo.pieces })
  t.true(metainfo.infoBytes.equals(Buffer.from(reference)))
  t.deepEqual([...metainfo.files], [{ path: ['one.bin'], length: 40_000, offset: 0 }])
})
