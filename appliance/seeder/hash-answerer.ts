import { hash as digestOf } from 'node:crypto'
import type { PublishedTorrent } from '../catalog/catalog.js'
import { BLOCK_BYTES, HASH_BYTES, merkleLayers, nextPowerOfTwo } from '../metainfo/merkle.js'
import type { Metainfo } from '../metainfo/metainfo.js'
import { PieceTree } from '../metainfo/piece-tree.js'
import { encodeHashes, encodeHashReject } from './hash-message.js'
import { answerHashes, hashRequestProblem, pieceBelow, type HashRequest, type TreeNode } from './hash-request.js'

/**
 * Bytes of piece trees kept between hash requests, the least recently used dropped first. The
 * piece-length rule keeps files under 2,000 pieces up to 31 GiB, whose trees are at most 128 KiB; a
 * larger tree than the whole cache is built for its request and not kept.
 */
export const HASH_TREE_CACHE_BYTES = 4 * 1024 * 1024

/** Fills `block` with the piece-space bytes at `offset` of piece `index` (see ContentReader). */
export type ReadBlock = (torrent: PublishedTorrent, index: number, offset: number, block: Buffer) => Promise<void>

/** Whether a request below the piece layer may read piece `index` (of the piece space) from disk. */
export type MayReadPiece = (index: number) => boolean

/** A published file of a hybrid or v2 torrent, found by its pieces root. */
interface TreeFile {
  readonly bytes: number
  /** Its first piece in the piece space (files of hybrid and v2 torrents start on pieces). */
  readonly firstPiece: number
  /** Its piece layer; undefined for a file of one piece. */
  readonly layer: Buffer | undefined
  /** log2 of the file's blocks, rounded up to a power of two: the root's layer. */
  readonly height: number
}

/**
 * Answers BEP 52 hash requests from what a torrent holds: layers from the piece layer up come from
 * its `piece layers` (trees built on demand, cached within HASH_TREE_CACHE_BYTES); layers below need
 * the piece's blocks, read and hashed (one piece at most per request), and checked against the
 * piece's digest before anything of them is sent.
 */
export class HashAnswerer {
  private readonly readBlock: ReadBlock
  private readonly cacheBytes: number
  private readonly trees = new Map<string, PieceTree>()
  private treeBytes = 0

  constructor (options: { readonly readBlock: ReadBlock, readonly cacheBytes?: number }) {
    this.readBlock = options.readBlock
    this.cacheBytes = options.cacheBytes ?? HASH_TREE_CACHE_BYTES
  }

  get cachedBytes (): number {
    return this.treeBytes
  }

  /**
   * The `hashes` message answering `request`, or its `hash reject`: for a root the torrent does not
   * have, a request outside its tree, or one below the piece layer spanning more than one piece or
   * for a piece `mayRead` refuses. Rejects only when reading the piece fails (a torrent or transient
   * error, see ContentReader).
   */
  async answer (torrent: PublishedTorrent, request: HashRequest, mayRead: MayReadPiece): Promise<Buffer> {
    const file = fileOf(torrent.metainfo, request.root)
    if (file === undefined || hashRequestProblem(request, file.height) !== undefined) return encodeHashReject(request)
    const { pieceLength } = torrent.metainfo
    // A torrent read from a .torrent without the layer of a file larger than a piece cannot prove it.
    if (file.layer === undefined && file.bytes > pieceLength) return encodeHashReject(request)
    const pieceLayer = Math.log2(pieceLength / BLOCK_BYTES)
    const tree = file.layer === undefined ? undefined : this.treeOf(file.layer, pieceLength, file.bytes, request.root)
    const piece = pieceBelow(request, pieceLayer)
    if (piece === 'spans-pieces') return encodeHashReject(request)
    let node: TreeNode = (layer, index) => tree!.node(layer, index)
    if (piece !== undefined) {
      if (!mayRead(file.firstPiece + piece)) return encodeHashReject(request)
      const subtree = await this.pieceSubtree(torrent, file, piece)
      const top = subtree.length - 1
      const expected = tree === undefined ? request.root : tree.node(pieceLayer, piece)
      // The blocks on disk no longer hash to the torrent's digest: nothing of them is sent.
      if (!subtree[top]!.equals(expected)) return encodeHashReject(request)
      // Below the piece layer from the piece's subtree; its siblings at the piece layer and up from the tree.
      node = (layer, index) => layer < top ? at(subtree[layer]!, index - (piece << (top - layer))) : tree!.node(layer, index)
    }
    return encodeHashes(request, answerHashes(request, node))
  }

  private treeOf (layer: Buffer, pieceLength: number, fileBytes: number, root: Buffer): PieceTree {
    const key = `${pieceLength}/${root.toString('hex')}`
    const cached = this.trees.get(key)
    if (cached !== undefined) {
      this.trees.delete(key)
      this.trees.set(key, cached)
      return cached
    }
    const tree = new PieceTree(layer, pieceLength, fileBytes)
    if (tree.bytes > this.cacheBytes) return tree
    this.trees.set(key, tree)
    this.treeBytes += tree.bytes
    for (const [oldKey, old] of this.trees) {
      if (this.treeBytes <= this.cacheBytes) break
      this.trees.delete(oldKey)
      this.treeBytes -= old.bytes
    }
    return tree
  }

  /**
   * The layers of piece `piece`'s subtree (of the whole tree, for a file of one piece), leaves first:
   * each 16 KiB block read and hashed in turn through one buffer; leaves past the file's end are zeros.
   */
  private async pieceSubtree (torrent: PublishedTorrent, file: TreeFile, piece: number): Promise<Buffer[]> {
    const { pieceLength } = torrent.metainfo
    const width = Math.min(2 ** file.height, pieceLength / BLOCK_BYTES)
    const leaves = Buffer.alloc(width * HASH_BYTES)
    const block = Buffer.allocUnsafe(BLOCK_BYTES)
    for (let leaf = 0; leaf < width; leaf++) {
      const start = piece * pieceLength + leaf * BLOCK_BYTES
      if (start >= file.bytes) break
      const bytes = block.subarray(0, Math.min(BLOCK_BYTES, file.bytes - start))
      await this.readBlock(torrent, file.firstPiece + piece, leaf * BLOCK_BYTES, bytes)
      leaves.set(digestOf('sha256', bytes, 'buffer'), leaf * HASH_BYTES)
    }
    return merkleLayers(leaves)
  }
}

function at (layer: Buffer, index: number): Buffer {
  return layer.subarray(index * HASH_BYTES, (index + 1) * HASH_BYTES)
}

/** The file whose pieces root is `root`; undefined for none (a v1 torrent has no roots; an empty file's zeros are no root). */
function fileOf (metainfo: Metainfo, root: Buffer): TreeFile | undefined {
  const roots = metainfo.piecesRoots
  if (roots === undefined) return undefined
  for (let found = roots.indexOf(root); found >= 0; found = roots.indexOf(root, found + 1)) {
    if (found % HASH_BYTES !== 0) continue
    const index = found / HASH_BYTES
    const bytes = metainfo.files.lengthOf(index)
    if (bytes === 0) return undefined
    return {
      bytes,
      firstPiece: metainfo.files.offsetOf(index) / metainfo.pieceLength,
      layer: metainfo.pieceLayers?.get(root.toString('hex')),
      height: Math.log2(nextPowerOfTwo(Math.ceil(bytes / BLOCK_BYTES)))
    }
  }
  return undefined
}
