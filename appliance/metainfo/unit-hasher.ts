import { createHash, hash as digestOf } from 'node:crypto'
import { closeSync, fstatSync, openSync, readSync } from 'node:fs'
import { howFileChanged } from './file-change.js'
import { FileListing, type ListedContentFile } from './file-listing.js'
import { ABORT, BYTES_HASHED, CHUNK_BYTES, NEXT_UNIT, unitBytesFor, type JobMessage, type JobReply } from './hash-protocol.js'

/*
 * One thread's share of a hashing job: claim the next unit of work from the job's shared counter,
 * read it with plain synchronous reads, and hash it while the bytes are still in this core's cache.
 * Every thread of the pool does the same, so the content is read once, roughly in order, and memory
 * is one chunk per thread whatever the size of the content.
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

  constructor (private readonly job: JobMessage, private readonly chunk: Uint8Array) {
    this.files = new FileListing(job.files)
    this.starts = new Float64Array(this.files.length)
    let offset = 0
    for (let index = 0; index < this.files.length; index++) {
      this.starts[index] = offset
      offset += this.files.size(index)
    }
    this.unitBytes = unitBytesFor(job.pieceLength)
    this.control = new Int32Array(job.control)
    this.bytesHashed = new BigInt64Array(job.control)
    this.pieces = new Uint8Array(job.pieces)
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
    const hash = createHash('sha1')
    for (let done = 0; done < length; done += CHUNK_BYTES) {
      const size = Math.min(CHUNK_BYTES, length - done)
      if (done > 0) yield
      this.read(start + done, size)
      hash.update(this.chunk.subarray(0, size))
    }
    this.store(start, hash.digest())
  }

  /** A unit of whole pieces (the last one may be short): one read, then each piece from memory. */
  private hashWholePieces (start: number, length: number): void {
    this.read(start, length)
    const { pieceLength } = this.job
    for (let offset = 0; offset < length; offset += pieceLength) {
      this.store(start + offset, digestOf('sha1', this.chunk.subarray(offset, Math.min(offset + pieceLength, length)), 'buffer'))
    }
  }

  private store (pieceStart: number, digest: Uint8Array): void {
    this.pieces.set(digest, (pieceStart / this.job.pieceLength) * 20)
  }

  /** Fills the chunk with `length` bytes of the content from byte `start`, across files as needed. */
  private read (start: number, length: number): void {
    if (Atomics.load(this.control, ABORT) !== 0) throw new Stop({ type: 'aborted' })
    let index = this.fileAt(start)
    let filled = 0
    while (filled < length) {
      const offset = start + filled - this.starts[index]!
      const take = Math.min(length - filled, this.files.size(index) - offset)
      if (take > 0) readExactly(this.files.at(index)!, offset, this.chunk.subarray(filled, filled + take))
      filled += take
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
