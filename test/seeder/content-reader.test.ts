import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { appendFileSync, renameSync, rmSync, utimesSync } from 'node:fs'
import { open } from 'node:fs/promises'
import { join } from 'node:path'
import test, { type ExecutionContext } from 'ava'
import type { PublishedTorrent } from '../../appliance/catalog/catalog.js'
import { ContentReader, MIN_CACHED_SPANS, readAheadFor } from '../../appliance/seeder/content-reader.js'
import { SeederError } from '../../appliance/seeder/errors.js'
import type { OpenFile } from '../../appliance/seeder/file-handle-cache.js'
import { pieceSize } from '../../appliance/seeder/piece-request.js'
import { writeTree } from '../helpers/content.js'
import { tempDir } from '../helpers/temp-dir.js'
import { contentOf, publish } from './fixtures.js'

const KiB = 1024

/** A block read into a buffer of its own, as the seeder reads into its block pool. */
async function readBlock (files: ContentReader, torrent: PublishedTorrent, index: number, offset: number, length: number): Promise<Buffer> {
  const block = Buffer.alloc(length)
  await files.readBlock(torrent, index, offset, block)
  return block
}

function reader (options: Partial<ConstructorParameters<typeof ContentReader>[0]> = {}): ContentReader {
  return new ContentReader({ cacheBytes: 256 * KiB, readAheadBytes: 64 * KiB, maxOpenFiles: 4, ...options })
}

test('every block of a multi-file torrent reads back as its content, across file and span boundaries', async (t) => {
  const root = tempDir(t)
  writeTree(root, { 'multi/a': 40_000, 'multi/b': 1, 'multi/c': 0, 'multi/d/e': 70_001, 'multi/f': 16_384, 'multi/g': 999 })
  const torrent = await publish(join(root, 'multi'), { pieceLength: 32 * KiB })
  const content = contentOf(torrent)
  const files = reader({ readAheadBytes: 16 * KiB })
  t.teardown(async () => await files.close())
  const { metainfo } = torrent
  for (let index = 0; index < metainfo.pieceCount; index++) {
    const size = pieceSize(metainfo, index)
    // Aligned 16 KiB blocks, and odd ones that straddle the 16 KiB read-ahead spans.
    for (const [offset, length] of [[0, Math.min(16 * KiB, size)], [size - 1, 1], [Math.min(1000, size - 1), Math.min(16 * KiB, size - Math.min(1000, size - 1))]] as const) {
      const block = await readBlock(files, torrent, index, offset, length)
      const start = index * metainfo.pieceLength + offset
      t.true(block.equals(content.subarray(start, start + length)), `piece ${index} offset ${offset} length ${length}`)
    }
  }
})

test('the cache stays within its budget and the open files within their limit', async (t) => {
  const root = tempDir(t)
  const tree: Record<string, number> = {}
  for (let i = 0; i < 12; i++) tree[`many/${String(i).padStart(2, '0')}`] = 300_000
  writeTree(root, tree)
  const torrent = await publish(join(root, 'many'), { pieceLength: 64 * KiB })
  const files = reader({ cacheBytes: 256 * KiB, readAheadBytes: 64 * KiB, maxOpenFiles: 3 })
  t.teardown(async () => await files.close())
  const { metainfo } = torrent
  const content = contentOf(torrent)
  for (let index = metainfo.pieceCount - 1; index >= 0; index--) {
    for (let offset = 0; offset < pieceSize(metainfo, index); offset += 16 * KiB) {
      const length = Math.min(16 * KiB, pieceSize(metainfo, index) - offset)
      const reads = [readBlock(files, torrent, index, offset, length), readBlock(files, torrent, index, offset, length)]
      const [block] = await Promise.all(reads)
      const start = index * metainfo.pieceLength + offset
      t.true(block!.equals(content.subarray(start, start + length)))
      t.true(files.cachedBytes <= 256 * KiB, `cache holds ${files.cachedBytes} bytes`)
      t.true(files.openFiles <= 3, `${files.openFiles} files open`)
    }
  }
  t.true(files.cachedBytes > 0)
})

async function failure (t: ExecutionContext, action: () => Promise<unknown>): Promise<SeederError> {
  const error = await t.throwsAsync(action)
  t.true(error instanceof SeederError)
  return error as SeederError
}

test('blocks read at once are all right while evicted spans are read into again, and keep their bytes after', async (t) => {
  const root = tempDir(t)
  writeTree(root, { 'big/a': 700_000, 'big/b': 333_333 })
  const torrent = await publish(join(root, 'big'), { pieceLength: 64 * KiB })
  // Room for four spans: nearly every read evicts one, and its memory is read into next.
  const files = reader({ cacheBytes: 4 * 32 * KiB, readAheadBytes: 32 * KiB })
  t.teardown(async () => await files.close())
  const { metainfo } = torrent
  const content = contentOf(torrent)
  const requests: Array<{ start: number, read: Promise<Buffer> }> = []
  for (let index = 0; index < metainfo.pieceCount; index++) {
    for (let offset = 0; offset < pieceSize(metainfo, index); offset += 16 * KiB) {
      const length = Math.min(16 * KiB, pieceSize(metainfo, index) - offset)
      requests.push({ start: index * metainfo.pieceLength + offset, read: readBlock(files, torrent, index, offset, length) })
    }
  }
  const blocks = await Promise.all(requests.map(async (request) => await request.read))
  // Then everything once more, backwards, so every span is evicted and read into again.
  for (let index = metainfo.pieceCount - 1; index >= 0; index--) await readBlock(files, torrent, index, 0, 16 * KiB)
  blocks.forEach((block, at) => {
    const start = requests[at]!.start
    t.true(block.equals(content.subarray(start, start + block.length)), `block at ${start}`)
  })
  t.true(files.cachedBytes <= 4 * 32 * KiB)
})

test('a file modified after hashing is not served: ET_FILE_CHANGED', async (t) => {
  const root = tempDir(t)
  writeTree(root, { 'item/a': 50_000, 'item/b': 50_000 })
  const torrent = await publish(join(root, 'item'), { pieceLength: 16 * KiB })
  const files = reader()
  t.teardown(async () => await files.close())
  utimesSync(torrent.files.at(1)!.absolutePath, new Date(), new Date(Date.now() + 5000))
  await readBlock(files, torrent, 0, 0, 16 * KiB)
  const error = await failure(t, async () => await readBlock(files, torrent, 4, 0, 16 * KiB))
  t.is(error.code, 'ET_FILE_CHANGED')
  t.is(error.path, torrent.files.at(1)!.absolutePath)
})

test('a file replaced by another of the same size and mtime is not served: ET_FILE_CHANGED', async (t) => {
  const root = tempDir(t)
  writeTree(root, { 'item/a': 50_000, 'other.bin': 50_000 })
  const torrent = await publish(join(root, 'item'), { pieceLength: 16 * KiB })
  const path = torrent.files.at(0)!.absolutePath
  execFileSync('touch', ['-r', path, join(root, 'other.bin')]) // the mtime to the nanosecond, which utimes cannot set
  renameSync(join(root, 'other.bin'), path)
  const files = reader()
  t.teardown(async () => await files.close())
  const error = await failure(t, async () => await readBlock(files, torrent, 0, 0, 16 * KiB))
  t.is(error.code, 'ET_FILE_CHANGED')
})

test('a file that grew or shrank is not served, even while it is open', async (t) => {
  const root = tempDir(t)
  writeTree(root, { 'item/a': 100_000 })
  const torrent = await publish(join(root, 'item'), { pieceLength: 16 * KiB })
  const files = reader({ readAheadBytes: 16 * KiB })
  t.teardown(async () => await files.close())
  await readBlock(files, torrent, 0, 0, 16 * KiB)
  t.is(files.openFiles, 1)
  appendFileSync(torrent.files.at(0)!.absolutePath, 'more')
  utimesSync(torrent.files.at(0)!.absolutePath, new Date(), new Date(torrent.files.at(0)!.mtimeMs))
  const error = await failure(t, async () => await readBlock(files, torrent, 1, 0, 16 * KiB))
  t.is(error.code, 'ET_FILE_CHANGED')
})

test('a deleted file gives ET_FILE_MISSING', async (t) => {
  const root = tempDir(t)
  writeTree(root, { 'item/a': 20_000, 'item/b': 20_000 })
  const torrent = await publish(join(root, 'item'), { pieceLength: 16 * KiB })
  const files = reader()
  t.teardown(async () => await files.close())
  rmSync(torrent.files.at(1)!.absolutePath)
  const error = await failure(t, async () => await readBlock(files, torrent, 2, 0, 40_000 - 32 * KiB))
  t.is(error.code, 'ET_FILE_MISSING')
})

test('a drive failing mid-read (EIO) gives ET_READ, and no bytes', async (t) => {
  const root = tempDir(t)
  writeTree(root, { 'item/a': 100_000 })
  const torrent = await publish(join(root, 'item'), { pieceLength: 16 * KiB })
  let reads = 0
  const failingDrive: OpenFile = async (path) => {
    const handle = await open(path, 'r')
    return {
      stat: async () => await handle.stat(),
      close: async () => await handle.close(),
      read: async (buffer, offset, length, position) => {
        if (++reads > 1) throw Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' })
        return await handle.read(buffer, offset, length, position)
      }
    }
  }
  const files = reader({ readAheadBytes: 16 * KiB, openFile: failingDrive })
  t.teardown(async () => await files.close())
  t.is((await readBlock(files, torrent, 0, 0, 16 * KiB)).length, 16 * KiB)
  const error = await failure(t, async () => await readBlock(files, torrent, 1, 0, 16 * KiB))
  t.is(error.code, 'ET_READ')
  t.regex(error.message, /EIO/)
})

test('out of file descriptors or memory (EMFILE, ENFILE, ENOMEM, EAGAIN) gives ET_TRANSIENT, and the next read goes through', async (t) => {
  const root = tempDir(t)
  writeTree(root, { 'item/a': 100_000 })
  const torrent = await publish(join(root, 'item'), { pieceLength: 16 * KiB })
  const content = contentOf(torrent)
  const failures: Array<{ where: 'open' | 'read', code: string }> = [
    { where: 'open', code: 'EMFILE' }, { where: 'open', code: 'ENFILE' }, { where: 'read', code: 'ENOMEM' }, { where: 'read', code: 'EAGAIN' }
  ]
  let next: { where: 'open' | 'read', code: string } | undefined
  const fail = (where: 'open' | 'read'): void => {
    if (next?.where !== where) return
    const { code } = next
    next = undefined
    throw Object.assign(new Error(`${code}: ${where}`), { code })
  }
  const flaky: OpenFile = async (path) => {
    fail('open')
    const handle = await open(path, 'r')
    return {
      stat: async () => await handle.stat(),
      close: async () => await handle.close(),
      read: async (buffer, offset, length, position) => {
        fail('read')
        return await handle.read(buffer, offset, length, position)
      }
    }
  }
  for (const [index, injected] of failures.entries()) {
    const files = reader({ readAheadBytes: 16 * KiB, openFile: flaky })
    t.teardown(async () => await files.close())
    next = injected
    const error = await failure(t, async () => await readBlock(files, torrent, index, 0, 16 * KiB))
    t.is(error.code, 'ET_TRANSIENT', injected.code)
    t.regex(error.message, new RegExp(injected.code))
    t.true((await readBlock(files, torrent, index, 0, 16 * KiB)).equals(content.subarray(index * 16 * KiB, (index + 1) * 16 * KiB)))
  }
})

test('a block is copied at once only when its span is cached, with the same bytes readBlock gives, and not once its torrent is forgotten', async (t) => {
  const root = tempDir(t)
  writeTree(root, { 'item/a': 100_000, 'item/b': 60_000 })
  const torrent = await publish(join(root, 'item'), { pieceLength: 32 * KiB })
  const content = contentOf(torrent)
  const files = reader({ readAheadBytes: 32 * KiB })
  t.teardown(async () => await files.close())
  const block = Buffer.alloc(16 * KiB)
  t.false(files.copyCachedBlock(torrent, 3, 0, block), 'nothing is cached before a read')
  await readBlock(files, torrent, 3, 0, 16 * KiB)
  // Piece 3 spans bytes 96 KiB to 128 KiB, across the end of file a: its second block comes from both files.
  const second = Buffer.alloc(16 * KiB)
  t.true(files.copyCachedBlock(torrent, 3, 16 * KiB, second), 'the other block of the span read')
  t.true(second.equals(content.subarray(112 * KiB, 128 * KiB)))
  const odd = Buffer.alloc(1000)
  t.true(files.copyCachedBlock(torrent, 3, 5000, odd))
  t.true(odd.equals(content.subarray(96 * KiB + 5000, 96 * KiB + 6000)))
  t.false(files.copyCachedBlock(torrent, 4, 0, block), 'the next span was not read')
  files.forget(torrent)
  t.false(files.copyCachedBlock(torrent, 3, 0, block), 'a forgotten torrent has nothing cached')
})

test('the read-ahead is what was asked for while the cache holds MIN_CACHED_SPANS of it, and shrinks by powers of two, never below a block', (t) => {
  t.is(readAheadFor(256 * KiB, 8 * 1024 * KiB), 256 * KiB, 'the defaults: 32 spans of 256 KiB in 8 MiB')
  t.is(readAheadFor(512 * KiB, 8 * 1024 * KiB), 512 * KiB, '16 spans of 512 KiB in 8 MiB')
  t.is(readAheadFor(512 * KiB, 64 * 1024 * KiB), 512 * KiB)
  t.is(readAheadFor(512 * KiB, 4 * 1024 * KiB), 256 * KiB)
  t.is(readAheadFor(512 * KiB, 3 * 1024 * KiB), 128 * KiB, '3 MiB holds 16 spans of 128 KiB, not of 256 KiB')
  t.is(readAheadFor(512 * KiB, 0), 16 * KiB)
  for (const cacheBytes of [0, 100_000, 1_000_000, 8 * 1024 * KiB, 2 ** 32]) {
    const span = readAheadFor(1024 * KiB, cacheBytes)
    t.is(2 ** Math.log2(span), span, 'a power of two')
    t.true(span === 16 * KiB || span * MIN_CACHED_SPANS <= cacheBytes, `${span} for a cache of ${cacheBytes}`)
  }
})

test('the pad bytes of a hybrid torrent read as zeros, in reused span memory too: every piece has its SHA-1', async (t) => {
  const root = tempDir(t)
  // Files that end off piece boundaries: BEP 47 pad files after each, in the piece space only.
  writeTree(root, { 'hybrid/a': 40_000, 'hybrid/b': 1, 'hybrid/c/d': 70_001, 'hybrid/e': 16_384 })
  const torrent = await publish(join(root, 'hybrid'), { pieceLength: 32 * KiB, format: 'hybrid' })
  const { metainfo } = torrent
  t.true(metainfo.totalBytes > contentOf(torrent).length, 'the torrent has pad bytes')
  // A cache of two spans: spans are evicted and their memory, full of file bytes, read into again.
  const files = reader({ cacheBytes: 32 * KiB, readAheadBytes: 16 * KiB })
  t.teardown(async () => await files.close())
  for (let round = 0; round < 2; round++) {
    for (let index = metainfo.pieceCount - 1; index >= 0; index--) {
      const piece = await readBlock(files, torrent, index, 0, pieceSize(metainfo, index))
      const sha1 = createHash('sha1').update(piece).digest()
      t.true(sha1.equals(metainfo.pieces.subarray(index * 20, index * 20 + 20)), `round ${round}, piece ${index}`)
    }
  }
})
