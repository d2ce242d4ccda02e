/** Messages between the piece hasher, its reader thread and its hashing threads. */

/** Bytes are read and hashed in chunks of this size: a power of two, so a chunk either holds whole pieces or lies inside one. */
export const CHUNK_BYTES = 1 << 20

export interface HashFile {
  readonly path: string
  readonly size: number
  readonly mtimeMs: number
}

export interface ReaderData {
  readonly threads: number
}

/** Reader → hasher, once: the chunk slots, shared by the reader and every hasher. */
export interface HasherData {
  readonly slots: SharedArrayBuffer
}

/** Caller → reader: hash these files laid end to end. `abortFlag` (an Int32Array's buffer) turns 1 to stop. */
export interface JobMessage {
  readonly id: number
  readonly files: readonly HashFile[]
  readonly pieceLength: number
  readonly totalBytes: number
  readonly abortFlag: SharedArrayBuffer
}

/** Reader → hasher: `length` bytes of the content starting at byte `start`. */
export interface ChunkMessage {
  readonly slot: number
  readonly length: number
  readonly start: number
  readonly pieceLength: number
  readonly totalBytes: number
}

/** Hasher → reader: the buffer back, and the digests of the pieces that ended in it. */
export interface DigestsMessage {
  readonly slot: number
  readonly length: number
  readonly firstPiece: number
  readonly digests: Uint8Array
}

/** Reader → caller, about job `id`. */
export type ReaderMessage =
  | { readonly id: number, readonly type: 'progress', readonly bytesHashed: number }
  | { readonly id: number, readonly type: 'done', readonly pieces: Uint8Array }
  | { readonly id: number, readonly type: 'aborted' }
  | { readonly id: number, readonly type: 'error', readonly code: string, readonly message: string, readonly path?: string }
