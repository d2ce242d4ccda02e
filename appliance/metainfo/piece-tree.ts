import { BLOCK_BYTES, HASH_BYTES, merkleLayers, nextPowerOfTwo, zeroSubtreeRoot } from './merkle.js'

/**
 * The part of a file's BEP 52 merkle tree from its piece layer up to its root, built from the piece
 * layer alone (what a torrent's `piece layers` holds): the layer padded to a power of two with the
 * root of a piece of zero leaves, then each layer above it. Layers are numbered as BEP 52's `base
 * layer`: 0 is the leaves (16 KiB blocks), `pieceLayer` is log2(piece length / 16 KiB), `height`
 * the root's.
 */
export class PieceTree {
  /** log2 of the blocks per piece: the piece layer's number. */
  readonly pieceLayer: number
  /** The root's layer: log2 of the file's blocks rounded up to a power of two. */
  readonly height: number
  /** Layers from the piece layer up, each padded to its full width; the last holds the root alone. */
  private readonly layers: readonly Buffer[]

  /** `layer` holds one SHA-256 digest per piece of a file of `fileBytes` bytes (more than one piece). */
  constructor (layer: Uint8Array, pieceLength: number, fileBytes: number) {
    const blocksPerPiece = pieceLength / BLOCK_BYTES
    const pieces = layer.length / HASH_BYTES
    this.pieceLayer = Math.log2(blocksPerPiece)
    this.height = Math.log2(nextPowerOfTwo(Math.ceil(fileBytes / BLOCK_BYTES)))
    const width = nextPowerOfTwo(pieces)
    const padded = Buffer.alloc(width * HASH_BYTES)
    padded.set(layer)
    const pad = zeroSubtreeRoot(blocksPerPiece)
    for (let index = pieces; index < width; index++) padded.set(pad, index * HASH_BYTES)
    this.layers = merkleLayers(padded)
  }

  get root (): Buffer {
    return this.layers[this.layers.length - 1]!
  }

  /** Bytes held, for a cache's bound. */
  get bytes (): number {
    return this.layers.reduce((sum, layer) => sum + layer.length, 0)
  }

  /** The digest at `index` of layer `layer` (from `pieceLayer` to `height`, index within the padded layer). */
  node (layer: number, index: number): Buffer {
    const at = index * HASH_BYTES
    return this.layers[layer - this.pieceLayer]!.subarray(at, at + HASH_BYTES)
  }
}
