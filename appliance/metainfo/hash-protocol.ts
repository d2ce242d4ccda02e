/** What the piece hasher and its hashing threads share about one job. */
import type { ListedFile } from './file-change.js'
import type { FileListingData } from './file-listing.js'

/** Bytes read at once: a power of two, so a unit of work either holds whole pieces or lies inside one. */
export const CHUNK_BYTES = 1 << 20

/** A file to hash, as it was listed: it must still be that file (`howFileChanged`) once read. */
export interface HashFile extends ListedFile {
  readonly path: string
}

/**
 * The job's control block, one SharedArrayBuffer read and written with `Atomics` by every thread:
 * the next unit of work to claim, the abort flag, and the bytes hashed so far (for progress).
 */
export const CONTROL_BYTES = 16
export const NEXT_UNIT = 0
export const ABORT = 1
/** Index into a BigInt64Array over the control block. */
export const BYTES_HASHED = 1

/**
 * Pool → hashing thread: hash units of these files laid end to end until none is left. A unit is
 * `CHUNK_BYTES` of whole pieces, or one piece when pieces are longer than that. Digests go
 * straight into `pieces` (20 bytes per piece), so nothing but "done" travels back.
 */
export interface JobMessage {
  /** Packed, in shared memory: a thread reads it where it is, 100,000 files or one. */
  readonly files: FileListingData
  readonly pieceLength: number
  readonly totalBytes: number
  readonly control: SharedArrayBuffer
  /** SHA-1 of each piece (BEP 3), 20 bytes each; empty for a v2-only torrent. */
  readonly pieces: SharedArrayBuffer
  /**
   * Set for hybrid and v2 torrents (BEP 52): each file starts on a piece boundary
   * (`pieceAlignedLayout`, `totalBytes` is its piece space) and the root of each piece's SHA-256
   * merkle subtree of 16 KiB blocks goes here, 32 bytes per piece.
   */
  readonly layer?: SharedArrayBuffer
}

/** Hashing thread → pool, once per job; the pool words the errors. */
export type JobReply =
  | { readonly type: 'done' }
  | { readonly type: 'aborted' }
  /** The file is not the one listed (`detail` says how), or shorter than its size. */
  | { readonly type: 'changed', readonly path: string, readonly detail: string }
  /** A system call on the file failed; `code` is its errno name (ENOENT, EIO, …). */
  | { readonly type: 'fs-error', readonly path: string, readonly code: string | undefined, readonly message: string }

/** Bytes in one unit of work: whole pieces filling a chunk, or a single piece longer than a chunk. */
export function unitBytesFor (pieceLength: number): number {
  return Math.max(pieceLength, CHUNK_BYTES)
}
