import { FileListing, FileListingBuilder } from './file-listing.js'

export interface PieceAlignedLayout {
  /** Where each file starts in the piece space. */
  readonly starts: Float64Array
  /** The piece space's size: the files with their pad bytes. */
  readonly totalBytes: number
}

/**
 * Where the files of a hybrid or v2 torrent lie in its piece space, as libtorrent 2.0.8 lays them out
 * (file_storage::canonicalize_impl): in a torrent of several files, a non-empty file that does not
 * end on a piece boundary is followed by a pad file up to the next one (BEP 47), the last file too
 * (as BEP 52's reference implementation; libtorrent up to 2.0.7 left the last one unpadded). A
 * single file is never padded. So every piece holds bytes of one file only.
 */
export function pieceAlignedLayout (sizes: ArrayLike<number>, pieceLength: number): PieceAlignedLayout {
  const starts = new Float64Array(sizes.length)
  if (sizes.length === 1) return { starts, totalBytes: sizes[0]! }
  let offset = 0
  for (let index = 0; index < sizes.length; index++) {
    starts[index] = offset
    offset = alignUp(offset + sizes[index]!, pieceLength)
  }
  return { starts, totalBytes: offset }
}

function alignUp (offset: number, pieceLength: number): number {
  return Math.ceil(offset / pieceLength) * pieceLength
}

/** Pad bytes after each file of `layout` (its file sizes `sizes`). */
export function padBytesAfter (layout: PieceAlignedLayout, sizes: ArrayLike<number>, index: number): number {
  const next = index + 1 < sizes.length ? layout.starts[index + 1]! : layout.totalBytes
  return next - layout.starts[index]! - sizes[index]!
}

const SLASH = 0x2f

/**
 * Compares two `/`-separated paths segment by segment (UTF-8 bytes), the order of a BEP 52 file
 * tree and of libtorrent's `path_compare`: a folder `a` sorts before a file `a.txt` beside it, where
 * the byte order of whole paths (v1's, `scanContent`'s) puts `a.txt` first, since "." < "/".
 */
export function compareTreePaths (a: Uint8Array, b: Uint8Array): number {
  const length = Math.min(a.length, b.length)
  for (let index = 0; index < length; index++) {
    const x = a[index]!
    const y = b[index]!
    if (x === y) continue
    if (x === SLASH) return -1
    if (y === SLASH) return 1
    return x - y
  }
  return a.length - b.length
}

/**
 * `listing` in file tree order (`compareTreePaths`): the order of a hybrid torrent's v1 file list,
 * which must follow its file tree. The listing itself when it is in that order already (unless a
 * folder shares the beginning of its name with a file beside it, as `a` and `a.txt`).
 */
export function inTreeOrder (listing: FileListing): FileListing {
  let sorted = true
  for (let index = 1; index < listing.length && sorted; index++) {
    sorted = compareTreePaths(listing.relativePathBytes(index - 1), listing.relativePathBytes(index)) < 0
  }
  if (sorted) return listing
  const order = Array.from({ length: listing.length }, (_, index) => index)
  order.sort((a, b) => compareTreePaths(listing.relativePathBytes(a), listing.relativePathBytes(b)))
  const { data } = listing
  const builder = new FileListingBuilder(data.base, data.inodes !== undefined, Infinity)
  for (const index of order) {
    builder.add(listing.relativePath(index), listing.size(index), listing.mtimeMs(index), listing.ino(index) ?? 0, data.targets.get(index))
  }
  return builder.finish()
}
