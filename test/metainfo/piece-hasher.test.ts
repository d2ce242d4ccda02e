import { createHash } from 'node:crypto'
import { statSync } from 'node:fs'
import { join } from 'node:path'
import test from 'ava'
import { MetainfoError } from '../../appliance/metainfo/errors.js'
import { CHUNK_BYTES, type HashFile } from '../../appliance/metainfo/hash-protocol.js'
import { hashPieces, type HashProgress } from '../../appliance/metainfo/piece-hasher.js'
import { sparseFile, writeTree } from '../helpers/content.js'
import { makeTempDir, removeTempDir, tempDir } from '../helpers/temp-dir.js'

const KiB = 1024
const MiB = 1024 * KiB

/** The plain definition (BEP 3): SHA-1 of each piece of the files laid end to end. */
function referencePieces (bytes: Buffer, pieceLength: number): Buffer {
  const digests: Buffer[] = []
  for (let start = 0; start < bytes.length; start += pieceLength) {
    digests.push(createHash('sha1').update(bytes.subarray(start, start + pieceLength)).digest())
  }
  return Buffer.concat(digests)
}

// Sizes chosen so file ends fall inside chunks, on chunk edges and inside pieces, with empty files at
// the start, in the middle and at the end; about 6.3 MiB in all, not a multiple of any piece length.
const LAYOUT: ReadonlyArray<[string, number]> = [
  ['00-empty', 0],
  ['01-tiny', 1],
  ['02-odd', 1_000_003],
  ['03-chunk-edge', CHUNK_BYTES - 1_000_004],
  ['04-one-chunk', CHUNK_BYTES],
  ['05-empty', 0],
  ['06-big', 3 * MiB + 12_345],
  ['07-small', 16 * KiB + 1],
  ['08-rest', 1_234_567],
  ['09-empty', 0]
]

let root: string
let files: HashFile[]
let content: Buffer

test.before(() => {
  root = makeTempDir()
  const written = writeTree(root, Object.fromEntries(LAYOUT))
  files = LAYOUT.map(([name]) => {
    const path = join(root, name)
    const stats = statSync(path)
    return { path, size: stats.size, mtimeMs: stats.mtimeMs }
  })
  content = Buffer.concat(LAYOUT.map(([name]) => written.get(name)!))
})

test.after.always(() => removeTempDir(root))

for (const pieceLength of [16 * KiB, 256 * KiB, CHUNK_BYTES, 2 * MiB, 4 * MiB]) {
  for (const threads of [1, 2, 3]) {
    test(`${pieceLength / KiB} KiB pieces on ${threads} thread(s) equal the reference SHA-1s`, async (t) => {
      const pieces = await hashPieces(files, { pieceLength, threads })
      const expected = referencePieces(content, pieceLength)
      t.is(pieces.length, Math.ceil(content.length / pieceLength) * 20)
      t.true(pieces.equals(expected), 'piece digests differ from the reference')
    })
  }
}

test('content smaller than one piece is one short piece', async (t) => {
  const pieces = await hashPieces(files.slice(0, 2), { pieceLength: 16 * KiB, threads: 2 })
  t.true(pieces.equals(referencePieces(content.subarray(0, 1), 16 * KiB)))
})

test('content that is an exact multiple of the piece length has no short last piece', async (t) => {
  const oneChunk = files.filter((file) => file.size === CHUNK_BYTES)
  const offset = LAYOUT.slice(0, 4).reduce((sum, [, size]) => sum + size, 0)
  const pieces = await hashPieces(oneChunk, { pieceLength: 256 * KiB, threads: 3 })
  t.is(pieces.length, 4 * 20)
  t.true(pieces.equals(referencePieces(content.subarray(offset, offset + CHUNK_BYTES), 256 * KiB)))
})

test('no files hash to no pieces', async (t) => {
  const pieces = await hashPieces([], { pieceLength: 16 * KiB, threads: 1 })
  t.is(pieces.length, 0)
})

test('reports progress that never goes backwards and ends at the total', async (t) => {
  const seen: HashProgress[] = []
  await hashPieces(files, { pieceLength: 64 * KiB, threads: 2, onProgress: (progress) => seen.push(progress) })
  t.true(seen.length > 0)
  for (const [index, progress] of seen.entries()) {
    t.is(progress.totalBytes, content.length)
    if (index > 0) t.true(progress.bytesHashed >= seen[index - 1]!.bytesHashed)
  }
  t.is(seen.at(-1)!.bytesHashed, content.length)
})

for (const threads of [0, -1, 1.5, Number.NaN]) {
  test(`a thread count of ${threads} is ET_BAD_OPTION`, async (t) => {
    const error = await t.throwsAsync(hashPieces(files, { pieceLength: 16 * KiB, threads }), { instanceOf: MetainfoError })
    t.is(error?.code, 'ET_BAD_OPTION')
  })
}

test('a file that is not the size it was listed with is ET_CHANGED, naming it', async (t) => {
  const listed = files.map((file, index) => index === 6 ? { ...file, size: file.size + 1 } : file)
  const error = await t.throwsAsync(hashPieces(listed, { pieceLength: 16 * KiB, threads: 2 }), { instanceOf: MetainfoError })
  t.is(error?.code, 'ET_CHANGED')
  t.is(error?.path, files[6]!.path)
})

test('a file whose modification time differs from the listing is ET_CHANGED', async (t) => {
  const listed = files.map((file, index) => index === 8 ? { ...file, mtimeMs: file.mtimeMs - 1000 } : file)
  const error = await t.throwsAsync(hashPieces(listed, { pieceLength: 16 * KiB, threads: 1 }), { instanceOf: MetainfoError })
  t.is(error?.code, 'ET_CHANGED')
  t.is(error?.path, files[8]!.path)
})

test('an empty file listed after the last byte is still checked', async (t) => {
  const listed = [...files, { path: join(root, 'never-written'), size: 0, mtimeMs: 0 }]
  const error = await t.throwsAsync(hashPieces(listed, { pieceLength: 16 * KiB, threads: 1 }), { instanceOf: MetainfoError })
  t.is(error?.code, 'ET_PATH_MISSING')
  t.is(error?.path, join(root, 'never-written'))
})

test('a file that vanished before hashing is ET_PATH_MISSING', async (t) => {
  const listed = [files[2]!, { path: join(root, 'gone'), size: 10, mtimeMs: 0 }]
  const error = await t.throwsAsync(hashPieces(listed, { pieceLength: 16 * KiB, threads: 1 }), { instanceOf: MetainfoError })
  t.is(error?.code, 'ET_PATH_MISSING')
  t.regex(error?.message ?? '', /gone/)
})

test('an already aborted signal rejects with ET_ABORTED', async (t) => {
  const error = await t.throwsAsync(hashPieces(files, { pieceLength: 16 * KiB, threads: 1, signal: AbortSignal.abort() }), { instanceOf: MetainfoError })
  t.is(error?.code, 'ET_ABORTED')
})

test('hashing on the calling thread lets its event loop run: progress arrives while it hashes', async (t) => {
  const path = join(tempDir(t), 'one-gib.img')
  sparseFile(path, 1024 * MiB)
  const stats = statSync(path)
  const seen: number[] = []
  // One thread: the calling thread alone (hashPieces hashes there too), so only its slices let the progress timer run.
  await hashPieces([{ path, size: stats.size, mtimeMs: stats.mtimeMs }], { pieceLength: MiB, threads: 1, onProgress: ({ bytesHashed }) => seen.push(bytesHashed) })
  t.true(seen.some((bytes) => bytes > 0 && bytes < stats.size), `only ${seen.join(', ')} reported`)
  t.is(seen.at(-1), stats.size)
})
