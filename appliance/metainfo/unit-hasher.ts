import { createHash, hash as digestOf } from 'node:crypto'
import { closeSync, fstatSync, openSync, readSync } from 'node:fs'
import { howFileChanged } from './file-change.js'
import { FileListing, type ListedContentFile } from './file-listing.js'
import { ABORT, BYTES_HASHED, CHUNK_BYTES, NEXT_UNIT, unitBytesFor, type JobMessage, type JobReply } from './hash-protocol.js'
import { BLOCK_BYTES, HASH_BYTES, merkleRootInPlace, nextPowerOfTwo } from './merkle.js'
import { pieceAlignedLayout } from './piece-alignment.js'

/*
 * One thread's share of a hashing job: claim the next unit of work from the job's shared counter,
 * read it with plain synchronous reads, and hash it while the bytes are still in this core's cache.
 * Every thread of the pool does the same, so the content is read once, roughly in order, and memory
 * is one chunk per thread whatever the size of the content.
 *
 * For hybrid and v2 torrents the same read gives both digests: each file starts on a piece boundary,
 * so a piece holds one file's bytes (and zeros after its end), and its 16 KiB blocks are that file's
 * merkle leaves. A thread keeps one piece's leaves besides its chunk (32 KiB for 16 MiB pieces).
 */

/**
 * A chunk buffer for one thread. Page-aligned, unlike an ArrayBuffer of this size (malloc puts it 16
 * bytes past a page): the kernel copies file data into an aligned address several times faster
 * (2 → 11 GB/s on AMD Zen 3).
 */
export function chunkBuffer (): Uint8Array {
  return new Uint8Array(new WebAssembly.Memory({ initial: CHUNK_BYTES / 65536, maximum: CHUNK_BYTES / 65536 }).buffer)
}

/**
 * Hashes units of `job` into its shared pieces until none is left, a chunk per step, so a thread that
 * has other work (the CLI's main thread) can pause between steps. Returns the thread's reply; a
 * failure also raises the job's abort flag, so the other threads stop too.
 */
export function * hashUnits (job: JobMessage, chunk: Uint8Array): Generator<void, JobReply> {
  try {
    yield * new UnitHasher(job, chunk).run()
    return { type: 'done' }
  } catch (error) {
    if (!(error instanceof Stop)) throw error
    if (error.reply.type !== 'aborted') Atomics.store(new Int32Array(job.control), ABORT, 1)
    return error.reply
  }
}

/** Ends this thread's share of the job with `reply`. */
class Stop extends Error {
  constructor (readonly reply: JobReply) {
    super(reply.type)
  }
}

class UnitHasher {
  private readonly files: FileListing
  private readonly starts: Float64Array
  private readonly unitBytes: number
  private readonly control: Int32Array
  private readonly bytesHashed: BigInt64Array
  private readonly pieces: Uint8Array
  private readonly sha1: boolean
  private readonly layer: Uint8Array | undefined
  /** One piece's merkle leaves, then its subtree, while a piece is hashed (hybrid and v2). */
  private readonly leaves: Uint8Array | undefined

  constructor (private readonly job: JobMessage, private readonly chunk: Uint8Array) {
    this.files = new FileListing(job.files)
    if (job.layer === undefined) {
      this.starts = new Float64Array(this.files.length)
      let offset = 0
      for (let index = 0; index < this.files.length; index++) {
        this.starts[index] = offset
        offset += this.files.size(index)
      }
    } else {
      this.starts = pieceAlignedLayout(job.files.sizes, job.pieceLength).starts
    }
    this.unitBytes = unitBytesFor(job.pieceLength)
    this.control = new Int32Array(job.control)
    this.bytesHashed = new BigInt64Array(job.control)
    this.pieces = new Uint8Array(job.pieces)
    this.sha1 = job.pieces.byteLength > 0
    this.layer = job.layer === undefined ? undefined : new Uint8Array(job.layer)
    this.leaves = job.layer === undefined ? undefined : new Uint8Array((job.pieceLength / BLOCK_BYTES) * HASH_BYTES)
  }

  * run (): Generator<void, void> {
    for (;;) {
      const start = Atomics.add(this.control, NEXT_UNIT, 1) * this.unitBytes
      if (start >= this.job.totalBytes) return
      const length = Math.min(this.unitBytes, this.job.totalBytes - start)
      if (this.job.pieceLength >= length) yield * this.hashOnePiece(start, length)
      else this.hashWholePieces(start, length)
      Atomics.add(this.bytesHashed, BYTES_HASHED, BigInt(length))
      yield
    }
  }

  /** A unit of one piece, longer than a chunk: read and hashed a chunk at a time. */
  private * hashOnePiece (start: number, length: number): Generator<void, void> {
    const hash = this.sha1 ? createHash('sha1') : undefined
    const file = this.layer === undefined ? undefined : this.pieceFile(start)
    for (let done = 0; done < length; done += CHUNK_BYTES) {
      const size = Math.min(CHUNK_BYTES, length - done)
      if (done > 0) yield
      this.read(start + done, size)
      hash?.update(this.chunk.subarray(0, size))
      if (file !== undefined) this.hashBlocks(this.chunk.subarray(0, Math.max(0, Math.min(size, file.end - start - done))), done / BLOCK_BYTES)
    }
    if (hash !== undefined) this.store(start, hash.digest())
    if (file !== undefined) this.storeSubtree(start, file)
  }

  /** A unit of whole pieces (the last one may be short): one read, then each piece from memory. */
  private hashWholePieces (start: number, length: number): void {
    this.read(start, length)
    const { pieceLength } = this.job
    for (let offset = 0; offset < length; offset += pieceLength) {
      const piece = this.chunk.subarray(offset, Math.min(offset + pieceLength, length))
      if (this.sha1) this.store(start + offset, digestOf('sha1', piece, 'buffer'))
      if (this.layer === undefined) continue
      const file = this.pieceFile(start + offset)
      this.hashBlocks(piece.subarray(0, Math.min(piece.length, file.end - start - offset)), 0)
      this.storeSubtree(start + offset, file)
    }
  }

  private store (pieceStart: number, digest: Uint8Array): void {
    this.pieces.set(digest, (pieceStart / this.job.pieceLength) * 20)
  }

  /** The file a piece holds: where its bytes end in the piece space, and its size. */
  private pieceFile (pieceStart: number): { readonly end: number, readonly size: number } {
    const index = this.fileAt(pieceStart)
    const size = this.files.size(index)
    return { end: this.starts[index]! + size, size }
  }

  /** BEP 52 leaves from `data` (file bytes only; the last block may be short), from leaf `first` of the piece on. */
  private hashBlocks (data: Uint8Array, first: number): void {
    for (let offset = 0, leaf = first; offset < data.length; offset += BLOCK_BYTES, leaf++) {
      this.leaves!.set(digestOf('sha256', data.subarray(offset, offset + BLOCK_BYTES), 'buffer'), leaf * HASH_BYTES)
    }
  }

  /**
   * The piece's subtree root into the job's layer. Leaves past the file's end are zeros (BEP 52); a
   * file smaller than a piece has a tree as wide as its blocks need (the next power of two), not a
   * piece's, and this root is its pieces root.
   */
  private storeSubtree (pieceStart: number, file: { readonly end: number, readonly size: number }): void {
    const { pieceLength } = this.job
    const width = file.size < pieceLength ? nextPowerOfTwo(Math.ceil(file.size / BLOCK_BYTES)) : pieceLength / BLOCK_BYTES
    const used = Math.ceil(Math.min(pieceLength, file.end - pieceStart) / BLOCK_BYTES)
    this.leaves!.fill(0, used * HASH_BYTES, width * HASH_BYTES)
    this.layer!.set(merkleRootInPlace(this.leaves!, width), (pieceStart / pieceLength) * HASH_BYTES)
  }

  /** Fills the chunk with `length` bytes of the content from byte `start`, across files as needed. */
  private read (start: number, length: number): void {
    if (Atomics.load(this.control, ABORT) !== 0) throw new Stop({ type: 'aborted' })
    let index = this.fileAt(start)
    let filled = 0
    while (filled < length) {
      // Pad bytes (hybrid and v2: between files and after the last one) are zeros.
      const fileStart = index < this.files.length ? this.starts[index]! : Infinity
      if (fileStart > start + filled) {
        const gap = Math.min(length - filled, fileStart - start - filled)
        this.chunk.fill(0, filled, filled + gap)
        filled += gap
        continue
      }
      const offset = start + filled - fileStart
      const take = Math.min(length - filled, this.files.size(index) - offset)
      if (take > 0) {
        readExactly(this.files.at(index)!, offset, this.chunk.subarray(filled, filled + take))
        filled += take
      }
      index += 1
    }
  }

  /** The last file starting at or before `position`: never a zero-length one, which shares its start with the next. */
  private fileAt (position: number): number {
    let low = 0
    let high = this.starts.length - 1
    while (low < high) {
      const middle = (low + high + 1) >>> 1
      if (this.starts[middle]! <= position) low = middle
      else high = middle - 1
    }
    return low
  }
}

/**
 * Reads `target.length` bytes of `file` from `offset`. Whether it is still the file listed is checked
 * after the read: one check covers a change before it (the listing's values differ) and during it
 * (the mtime moves).
 */
function readExactly (file: ListedContentFile, offset: number, target: Uint8Array): void {
  let fd: number
  try {
    fd = openSync(file.absolutePath, 'r')
  } catch (error) {
    throw fsFailure(error, file)
  }
  try {
    let filled = 0
    while (filled < target.length) {
      const read = readSync(fd, target, filled, target.length - filled, offset + filled)
      if (read === 0) throw new Stop({ type: 'changed', path: file.absolutePath, detail: 'it came up short while being read' })
      filled += read
    }
    const change = howFileChanged(file, fstatSync(fd))
    if (change !== undefined) throw new Stop({ type: 'changed', path: file.absolutePath, detail: change })
  } catch (error) {
    throw error instanceof Stop ? error : fsFailure(error, file)
  } finally {
    closeSync(fd)
  }
}

function fsFailure (error: unknown, file: ListedContentFile): Stop {
  return new Stop({ type: 'fs-error', path: file.absolutePath, code: (error as NodeJS.ErrnoException).code, message: error instanceof Error ? error.message : String(error) })
}
