import test, { type ExecutionContext } from 'ava'
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { PublishedTorrent } from '../../appliance/catalog/catalog.js'
import { ContentReader } from '../../appliance/seeder/content-reader.js'
import { HashAnswerer } from '../../appliance/seeder/hash-answerer.js'
import type { HashRequest } from '../../appliance/seeder/hash-request.js'
import { writeTree } from '../helpers/content.js'
import { tempDir } from '../helpers/temp-dir.js'
import { publish } from './fixtures.js'

const PIECE = 64 * 1024
const BLOCK = 16 * 1024
/** With 64 KiB pieces (4 blocks, the piece layer is 2): files of many pieces, one partial, one piece exactly, under a piece, one block. */
const FILES = {
  'v2/big.bin': 17 * PIECE + 3,
  'v2/exact.bin': 4 * PIECE,
  'v2/one piece.bin': PIECE,
  'v2/small.bin': 40_000,
  'v2/tiny.bin': 1000
}

const sha256 = (bytes: Uint8Array): Buffer => createHash('sha256').update(bytes).digest()

/** The whole tree of a file, computed here from its bytes: layer 0 the 16 KiB blocks' digests, padded with zero leaves to a power of two. */
function treeOf (bytes: Buffer): Buffer[][] {
  const blocks = Math.ceil(bytes.length / BLOCK)
  let width = 1
  while (width < blocks) width *= 2
  const leaves = Array.from({ length: width }, (_, at) => at < blocks ? sha256(bytes.subarray(at * BLOCK, (at + 1) * BLOCK)) : Buffer.alloc(32))
  const layers = [leaves]
  while (layers.at(-1)!.length > 1) {
    const below = layers.at(-1)!
    layers.push(Array.from({ length: below.length / 2 }, (_, at) => sha256(Buffer.concat([below[2 * at]!, below[2 * at + 1]!]))))
  }
  return layers
}

interface Answer {
  readonly id: number
  readonly fields: HashRequest
  readonly hashes: Buffer[]
}

function read (frame: Buffer): Answer {
  if (frame.readUInt32BE(0) !== frame.length - 4) throw new Error('bad length prefix')
  const fields = { root: frame.subarray(5, 37), base: frame.readUInt32BE(37), index: frame.readUInt32BE(41), length: frame.readUInt32BE(45), proofLayers: frame.readUInt32BE(49) }
  const hashes = Array.from({ length: (frame.length - 53) / 32 }, (_, at) => frame.subarray(53 + at * 32, 53 + (at + 1) * 32))
  return { id: frame[4]!, fields, hashes }
}

/** What a client does with `hashes`: fold the run into its subtree root, then up through the uncles; the node reached. */
function proven (request: HashRequest, hashes: Buffer[]): { layer: number, index: number, digest: Buffer } {
  let run = hashes.slice(0, request.length)
  while (run.length > 1) run = Array.from({ length: run.length / 2 }, (_, at) => sha256(Buffer.concat([run[2 * at]!, run[2 * at + 1]!])))
  let layer = request.base + Math.log2(request.length)
  let index = request.index / request.length
  let digest = run[0]!
  for (const uncle of hashes.slice(request.length)) {
    digest = sha256(index % 2 === 0 ? Buffer.concat([digest, uncle]) : Buffer.concat([uncle, digest]))
    index = Math.floor(index / 2)
    layer++
  }
  return { layer, index, digest }
}

async function setUp (t: ExecutionContext, format: 'v2' | 'hybrid'): Promise<{ torrent: PublishedTorrent, answerer: HashAnswerer, reads: { count: number }, trees: Map<string, Buffer[][]> }> {
  const root = tempDir(t)
  writeTree(root, FILES)
  const torrent = await publish(join(root, 'v2'), { pieceLength: PIECE, format })
  const reader = new ContentReader({ cacheBytes: 64 * 1024, readAheadBytes: BLOCK, maxOpenFiles: 4 })
  t.teardown(async () => { await reader.close() })
  const reads = { count: 0 }
  const answerer = new HashAnswerer({
    readBlock: async (published, index, offset, block) => {
      reads.count++
      await reader.readBlock(published, index, offset, block)
    }
  })
  const trees = new Map<string, Buffer[][]>()
  for (const [relative] of Object.entries(FILES)) trees.set(relative.slice(3), treeOf(readFileSync(join(root, relative))))
  return { torrent, answerer, reads, trees }
}

const rootOf = (torrent: PublishedTorrent, file: number): Buffer => torrent.metainfo.piecesRoots!.subarray(file * 32, (file + 1) * 32)
const pathsOf = (torrent: PublishedTorrent): string[] => Array.from({ length: torrent.metainfo.files.length }, (_, index) => torrent.metainfo.files.pathOf(index).at(-1)!)

for (const format of ['v2', 'hybrid'] as const) {
  test(`${format}: every request a tree allows is answered with the hashes of a tree computed from the file's blocks, and proves up to its root`, async (t) => {
    const { torrent, answerer, trees } = await setUp(t, format)
    const names = pathsOf(torrent)
    let checked = 0
    for (const [name, tree] of trees) {
      const index = names.indexOf(name)
      t.true(index >= 0, name)
      const root = torrent.metainfo.piecesRoots!.subarray(index * 32, index * 32 + 32)
      const height = tree.length - 1
      t.deepEqual(root, tree[height]![0], `${name}: our pieces root is the root computed here`)
      for (let base = 0; base < height; base++) {
        for (let length = 2; length <= 2 ** (height - base); length *= 2) {
          // The first run, the last one, and the proof layers from none to the most.
          for (const at of new Set([0, 2 ** (height - base) - length])) {
            for (let proofLayers = 0; proofLayers < height - base; proofLayers++) {
              const request = { root, base, index: at, length, proofLayers }
              const answer = read(await answerer.answer(torrent, request, () => true))
              const what = `${name} base ${base} index ${at} length ${length} proof layers ${proofLayers}`
              if (base < 2 && length > 2 ** (2 - base) && height > 2) {
                t.is(answer.id, 23, `${what}: below the piece layer across pieces, rejected`)
                continue
              }
              t.is(answer.id, 22, what)
              t.deepEqual(answer.fields, request, what)
              t.deepEqual(answer.hashes.slice(0, length), tree[base]!.slice(at, at + length), `${what}: the run`)
              const reached = proven(request, answer.hashes)
              t.is(reached.layer, base + Math.max(Math.log2(length), proofLayers + 1), `${what}: one uncle per proof layer above the run's subtree`)
              t.deepEqual(reached.digest, tree[reached.layer]![reached.index], `${what}: the uncles prove the run`)
              checked++
            }
          }
        }
      }
    }
    t.true(checked > 100, `${checked} answers checked`)
  })
}

test('requests outside a tree, for an unknown root, the root of an empty file, or over the bounds are rejected with their own fields', async (t) => {
  const { torrent, answerer } = await setUp(t, 'v2')
  const names = pathsOf(torrent)
  const big = rootOf(torrent, names.indexOf('big.bin'))
  // big.bin: 69 blocks, height 7; 18 pieces padded to 32 at layer 2.
  const refused: HashRequest[] = [
    { root: Buffer.alloc(32, 1), base: 2, index: 0, length: 2, proofLayers: 0 },
    { root: Buffer.alloc(32), base: 2, index: 0, length: 2, proofLayers: 0 },
    { root: big, base: 7, index: 0, length: 2, proofLayers: 0 },
    { root: big, base: 2, index: 32, length: 2, proofLayers: 0 },
    { root: big, base: 2, index: 16, length: 32, proofLayers: 0 },
    { root: big, base: 2, index: 0, length: 2 ** 31, proofLayers: 0 },
    { root: big, base: 2, index: 0, length: 3, proofLayers: 0 },
    { root: big, base: 2, index: 0, length: 2, proofLayers: 5 },
    { root: big, base: 0, index: 0, length: 8, proofLayers: 0 },
    { root: rootOf(torrent, names.indexOf('tiny.bin')), base: 0, index: 0, length: 2, proofLayers: 0 }
  ]
  for (const request of refused) {
    const answer = read(await answerer.answer(torrent, request, () => true))
    t.is(answer.id, 23, JSON.stringify({ ...request, root: request.root.toString('hex').slice(0, 8) }))
    t.deepEqual(answer.fields, request)
    t.is(answer.hashes.length, 0)
  }
})

test('the piece layer and above come from the torrent\'s piece layers; below it, the piece is read and its blocks checked against the piece\'s digest', async (t) => {
  const { torrent, answerer, reads } = await setUp(t, 'v2')
  const names = pathsOf(torrent)
  const big = torrent.metainfo.piecesRoots!.subarray(names.indexOf('big.bin') * 32, names.indexOf('big.bin') * 32 + 32)
  t.is(read(await answerer.answer(torrent, { root: big, base: 2, index: 0, length: 32, proofLayers: 4 }, () => true)).id, 22)
  t.is(reads.count, 0, 'no read for the piece layer')
  t.true(answerer.cachedBytes > 0)
  // The last piece of big.bin holds one block of 3 bytes: one read, and zero leaves after it.
  t.is(read(await answerer.answer(torrent, { root: big, base: 0, index: 68, length: 4, proofLayers: 6 }, () => true)).id, 22)
  t.is(reads.count, 1)
  const exact = names.indexOf('exact.bin')
  const asked: number[] = []
  const refusing = (piece: number): boolean => { asked.push(piece); return false }
  t.is(read(await answerer.answer(torrent, { root: rootOf(torrent, exact), base: 0, index: 8, length: 4, proofLayers: 0 }, refusing)).id, 23, 'a piece the peer may not have read for it')
  t.deepEqual(asked, [torrent.metainfo.files.offsetOf(exact) / PIECE + 2], 'asked by its index in the piece space')
  t.is(reads.count, 1, 'and not read')
  const corrupting = new HashAnswerer({ readBlock: async (_torrent, _index, _offset, block) => { block.fill(1) } })
  t.is(read(await corrupting.answer(torrent, { root: big, base: 0, index: 4, length: 4, proofLayers: 0 }, () => true)).id, 23, 'blocks that do not hash to the piece layer are not sent')
})

test('the tree cache stays within its bound: a tree larger than it is built and not kept', async (t) => {
  const { torrent } = await setUp(t, 'v2')
  const names = pathsOf(torrent)
  const big = torrent.metainfo.piecesRoots!.subarray(names.indexOf('big.bin') * 32, names.indexOf('big.bin') * 32 + 32)
  const small = new HashAnswerer({ readBlock: async () => {}, cacheBytes: 100 })
  t.is(read(await small.answer(torrent, { root: big, base: 2, index: 0, length: 32, proofLayers: 4 }, () => true)).id, 22)
  t.is(small.cachedBytes, 0)
})
