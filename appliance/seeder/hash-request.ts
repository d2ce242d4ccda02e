import { HASH_BYTES } from '../metainfo/merkle.js'

/**
 * libtorrent 2.0.8 refuses a hash request for more than 8192 hashes (it asks for the blocks of a
 * whole piece at once: 8192 blocks is a 128 MiB piece); BEP 52 says a request SHOULD NOT ask for
 * more than 512. The bound of an answer: 8192 hashes and their uncles, 256 KiB and a little.
 */
export const MAX_HASHES_PER_REQUEST = 8192

/** BEP 52 `hash request` (message 21): a run of one layer of a file's merkle tree, with the uncles that prove it. */
export interface HashRequest {
  /** The file's `pieces root`. */
  readonly root: Buffer
  /** The layer of the first hash: 0 for the leaves (16 KiB blocks), one more for each layer up. */
  readonly base: number
  /** The first hash's position in its layer. */
  readonly index: number
  /** How many hashes of the base layer. */
  readonly length: number
  /** Ancestor layers above the base to prove the run with (the first log2(length) - 1 need no uncle). */
  readonly proofLayers: number
}

export type HashRequestProblem = 'unknown-root' | 'bad-base' | 'bad-length' | 'bad-index' | 'bad-proof-layers'

const isPowerOfTwo = (value: number): boolean => value > 0 && (value & (value - 1)) === 0

/**
 * Why `request` cannot be answered from a tree whose root sits at layer `height` (log2 of the file's
 * blocks rounded up to a power of two), or undefined when it can. BEP 52: the index a multiple of
 * the length, the length a power of two of at least two; libtorrent 2.0.8: the base below the root,
 * the run within the (padded) layer, the proof layers below the root too, at most 8192 hashes.
 */
export function hashRequestProblem (request: HashRequest, height: number): HashRequestProblem | undefined {
  const { base, index, length, proofLayers } = request
  if (base >= height) return 'bad-base'
  if (length < 2 || !isPowerOfTwo(length) || length > MAX_HASHES_PER_REQUEST) return 'bad-length'
  if (index % length !== 0 || index + length > 2 ** (height - base)) return 'bad-index'
  if (proofLayers >= height - base) return 'bad-proof-layers'
  return undefined
}

/** The uncle hashes an answer carries: one per proof layer above the run's own subtree (BEP 52). */
export function uncleCount (request: HashRequest): number {
  return Math.max(0, request.proofLayers - Math.log2(request.length) + 1)
}

/** Reads the digest at `index` of `layer` (layers numbered as `HashRequest.base`). */
export type TreeNode = (layer: number, index: number) => Uint8Array

/**
 * The hashes of a `hashes` answer to a valid request: the run of the base layer, then one uncle per
 * proof layer from the run's own subtree root up, the one closest to the root last (BEP 52).
 */
export function answerHashes (request: HashRequest, node: TreeNode): Buffer {
  const { base, index, length, proofLayers } = request
  const subtreeLayers = Math.log2(length)
  const out = Buffer.allocUnsafe((length + uncleCount(request)) * HASH_BYTES)
  let at = 0
  for (let offset = 0; offset < length; offset++, at += HASH_BYTES) out.set(node(base, index + offset), at)
  for (let up = subtreeLayers; up <= proofLayers; up++, at += HASH_BYTES) {
    const ancestor = Math.floor(index / 2 ** up)
    out.set(node(base + up, ancestor ^ 1), at)
  }
  return out
}

/**
 * The layers a request reads: from its base up to its highest uncle. Those below `pieceLayer` are
 * inside one piece's subtree when the run is no wider than a piece (it is aligned on its length):
 * that piece, by its index in the file; undefined when the request reads nothing below the piece layer.
 */
export function pieceBelow (request: HashRequest, pieceLayer: number): number | 'spans-pieces' | undefined {
  if (request.base >= pieceLayer) return undefined
  const perPiece = 2 ** (pieceLayer - request.base)
  if (request.length > perPiece) return 'spans-pieces'
  return Math.floor(request.index / perPiece)
}
