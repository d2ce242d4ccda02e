import { hash as digestOf } from 'node:crypto'

/** BEP 52: the leaves of a file's merkle tree are the SHA-256 digests of its 16 KiB blocks. */
export const BLOCK_BYTES = 16 * 1024
export const HASH_BYTES = 32

export function nextPowerOfTwo (value: number): number {
  let power = 1
  while (power < value) power *= 2
  return power
}

/**
 * The root of the tree whose leaves are the first `leafCount` 32-byte digests of `leaves` (a power
 * of two), computed in place: `leaves` holds the upper layers' digests afterwards.
 */
export function merkleRootInPlace (leaves: Uint8Array, leafCount: number): Buffer {
  for (let count = leafCount; count > 1; count /= 2) {
    for (let pair = 0; pair < count / 2; pair++) {
      leaves.set(digestOf('sha256', leaves.subarray(pair * 2 * HASH_BYTES, (pair + 1) * 2 * HASH_BYTES), 'buffer'), pair * HASH_BYTES)
    }
  }
  return Buffer.from(leaves.subarray(0, HASH_BYTES))
}

/**
 * Every layer of the tree over `leaves` (32-byte digests, a power of two of them), the leaves first
 * (that very buffer) and the root's layer last.
 */
export function merkleLayers (leaves: Buffer): Buffer[] {
  const layers = [leaves]
  for (let below = leaves; below.length > HASH_BYTES;) {
    const above = Buffer.allocUnsafe(below.length / 2)
    for (let at = 0; at < above.length; at += HASH_BYTES) above.set(digestOf('sha256', below.subarray(at * 2, at * 2 + 2 * HASH_BYTES), 'buffer'), at)
    layers.push(above)
    below = above
  }
  return layers
}

/** BEP 52: a subtree of `leafCount` leaves past the end of a file (zero digests), as its parent layer pads with. */
export function zeroSubtreeRoot (leafCount: number): Buffer {
  return merkleRootInPlace(new Uint8Array(leafCount * HASH_BYTES), leafCount)
}

/**
 * A file's `pieces root` from its piece layer (one digest per piece, each the root of a piece's
 * blocks): the layer padded to a power of two with the digest of a piece of zero leaves. A file of
 * one piece has that piece's digest as its root.
 */
export function rootOfPieceLayer (layer: Uint8Array, pieceLength: number): Buffer {
  const pieces = layer.length / HASH_BYTES
  if (pieces === 1) return Buffer.from(layer)
  const width = nextPowerOfTwo(pieces)
  const tree = new Uint8Array(width * HASH_BYTES)
  tree.set(layer)
  const pad = zeroSubtreeRoot(pieceLength / BLOCK_BYTES)
  for (let index = pieces; index < width; index++) tree.set(pad, index * HASH_BYTES)
  return merkleRootInPlace(tree, width)
}
