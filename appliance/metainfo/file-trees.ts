import { HASH_BYTES, rootOfPieceLayer } from './merkle.js'

/** The BEP 52 trees of a torrent's files: what its `file tree` and `piece layers` hold. */
export interface FileTrees {
  /** Each file's `pieces root`, 32 bytes per file in torrent order; zeros for an empty file, which has none. */
  readonly roots: Buffer
  /** The piece layer of each file larger than one piece, by its pieces root in hex. */
  readonly layers: ReadonlyMap<string, Buffer>
}

/**
 * The files' roots and piece layers from what the hasher left: per piece of the piece space (every
 * file starting on a piece boundary), the root of that piece's subtree. A file of one piece has that
 * root as its pieces root (for a file smaller than a piece, the hasher made it as wide as the file's
 * blocks need) and no piece layer (BEP 52: a layer only for files larger than a piece).
 */
export function fileTreesOf (sizes: ArrayLike<number>, pieceLength: number, pieceLayer: Buffer): FileTrees {
  const roots = Buffer.alloc(sizes.length * HASH_BYTES)
  const layers = new Map<string, Buffer>()
  let piece = 0
  for (let index = 0; index < sizes.length; index++) {
    const size = sizes[index]!
    if (size === 0) continue
    const pieces = Math.ceil(size / pieceLength)
    const layer = pieceLayer.subarray(piece * HASH_BYTES, (piece + pieces) * HASH_BYTES)
    const root = rootOfPieceLayer(layer, pieceLength)
    roots.set(root, index * HASH_BYTES)
    if (pieces > 1) layers.set(root.toString('hex'), Buffer.from(layer))
    piece += pieces
  }
  return { roots, layers }
}

/** Why `layer` is not the piece layer of a file of `size` bytes with pieces root `root`, or undefined when it is. */
export function pieceLayerProblem (layer: Uint8Array, size: number, pieceLength: number, root: Uint8Array): string | undefined {
  const pieces = Math.ceil(size / pieceLength)
  if (layer.length !== pieces * HASH_BYTES) return `holds ${layer.length} bytes, not ${pieces} SHA-256 digests (${pieces * HASH_BYTES} bytes) for its ${size} bytes`
  if (!rootOfPieceLayer(layer, pieceLength).equals(root)) return 'does not hash to the file\'s pieces root'
  return undefined
}
