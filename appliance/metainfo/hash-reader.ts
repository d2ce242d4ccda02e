import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs'
import { parentPort, Worker, workerData } from 'node:worker_threads'
import { MetainfoError } from './errors.js'
import { fsError } from './content.js'
import { CHUNK_BYTES, type DigestsMessage, type HashFile, type JobMessage, type ReaderData, type ReaderMessage } from './hash-protocol.js'

/*
 * The reader thread: for each job, reads the files once, in order, with synchronous reads (cheap
 * here, and the caller's event loop is never blocked), and hands fixed-size chunks to the hashing
 * threads. Memory is the small pool of chunk buffers plus 20 bytes per piece, whatever the size of
 * the content. The thread and its hashers live on between jobs, so many small items cost no thread
 * start-up each.
 */

const PROGRESS_INTERVAL_MS = 100
const { threads } = workerData as ReaderData
const port = parentPort!

function post (message: ReaderMessage, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer)
}

class HasherPool {
  private readonly workers: Worker[]
  private readonly outstanding: number[]
  /**
   * The chunk buffers, as slots of one page-aligned block. An ArrayBuffer of 1 MiB comes from malloc at
   * 16 bytes past a page, and the kernel copies file data into such an address several times slower
   * (2 GB/s instead of 11 GB/s on AMD Zen 3); WebAssembly memory is page-aligned.
   */
  readonly slots = new WebAssembly.Memory({ initial: threads * 3 * CHUNK_BYTES / 65536, maximum: threads * 3 * CHUNK_BYTES / 65536, shared: true }).buffer as unknown as SharedArrayBuffer
  private readonly free = Array.from({ length: threads * 3 }, (_, slot) => slot)
  private wake: (() => void) | undefined
  private pieceOwner = 0
  private job: { pieces: Uint8Array, bytesHashed: number, onHashed: () => void } | undefined

  constructor () {
    this.outstanding = new Array<number>(threads).fill(0)
    this.workers = Array.from({ length: threads }, (_, index) => {
      const worker = new Worker(new URL('./hash-worker.js', import.meta.url), { workerData: { slots: this.slots } })
      worker.on('message', (reply: DigestsMessage) => {
        const job = this.job
        if (job !== undefined) {
          if (reply.firstPiece >= 0) job.pieces.set(reply.digests, reply.firstPiece * 20)
          job.bytesHashed += reply.length
          job.onHashed()
        }
        this.outstanding[index]! -= 1
        this.free.push(reply.slot)
        this.wakeUp()
      })
      // A hashing thread that dies takes the reader down with it; the caller sees the exit and starts afresh.
      worker.on('error', (error) => { throw error })
      return worker
    })
  }

  begin (pieceCount: number, onHashed: () => void): { pieces: Uint8Array, bytesHashed: number } {
    this.job = { pieces: new Uint8Array(pieceCount * 20), bytesHashed: 0, onHashed }
    return this.job
  }

  async takeSlot (): Promise<number> {
    while (this.free.length === 0) await this.sleep()
    return this.free.pop()!
  }

  giveBack (slot: number): void {
    this.free.push(slot)
  }

  /** A piece longer than a chunk must be hashed by one thread, so its chunks follow it there. */
  send (chunk: { slot: number, length: number, start: number, pieceLength: number, totalBytes: number }): void {
    if (chunk.pieceLength <= CHUNK_BYTES || chunk.start % chunk.pieceLength === 0) this.pieceOwner = this.leastBusy()
    this.outstanding[this.pieceOwner]! += 1
    this.workers[this.pieceOwner]!.postMessage(chunk)
  }

  /** Waits until every chunk sent is hashed, so the next job starts with idle threads. */
  async drain (): Promise<void> {
    while (this.outstanding.some((count) => count > 0)) await this.sleep()
    this.job = undefined
  }

  private leastBusy (): number {
    let best = 0
    for (let index = 1; index < this.outstanding.length; index++) {
      if (this.outstanding[index]! < this.outstanding[best]!) best = index
    }
    return best
  }

  private async sleep (): Promise<void> {
    await new Promise<void>((resolve) => { this.wake = resolve })
  }

  private wakeUp (): void {
    const wake = this.wake
    this.wake = undefined
    wake?.()
  }
}

/** Walks one job's files in torrent order, filling chunks that may span file boundaries. */
class ContentReader {
  private fileIndex = 0
  private fd = -1
  private fileOffset = 0

  constructor (private readonly files: readonly HashFile[]) {}

  fill (target: Uint8Array, length: number): void {
    let filled = 0
    while (filled < length) {
      const file = this.currentFile()
      const want = Math.min(length - filled, file.size - this.fileOffset)
      const read = this.read(file, target, filled, want)
      if (read === 0) throw changed(file)
      filled += read
      this.fileOffset += read
      if (this.fileOffset === file.size) this.closeCurrent(file)
    }
  }

  /** Zero-length files after the last byte are still checked to exist. */
  finish (): void {
    while (this.fileIndex < this.files.length) this.checkEmptyFile(this.files[this.fileIndex++]!)
  }

  /** Releases the open file, if any (after an error or an abort). */
  release (): void {
    if (this.fd >= 0) closeSync(this.fd)
    this.fd = -1
  }

  private currentFile (): HashFile {
    while (this.fd < 0) {
      const file = this.files[this.fileIndex]!
      if (file.size === 0) {
        this.checkEmptyFile(file)
        this.fileIndex += 1
        continue
      }
      try {
        this.fd = openSync(file.path, 'r')
      } catch (error) {
        throw fsError(error, file.path)
      }
      this.fileOffset = 0
      this.checkUnchanged(file)
    }
    return this.files[this.fileIndex]!
  }

  private read (file: HashFile, target: Uint8Array, offset: number, length: number): number {
    try {
      return readSync(this.fd, target, offset, length, this.fileOffset)
    } catch (error) {
      throw fsError(error, file.path)
    }
  }

  private closeCurrent (file: HashFile): void {
    this.checkUnchanged(file)
    this.release()
    this.fileIndex += 1
  }

  private checkUnchanged (file: HashFile): void {
    const stats = fstatSync(this.fd)
    if (stats.size !== file.size || stats.mtimeMs !== file.mtimeMs) throw changed(file)
  }

  private checkEmptyFile (file: HashFile): void {
    let size: number
    try {
      size = statSync(file.path).size
    } catch (error) {
      throw fsError(error, file.path)
    }
    if (size !== 0) throw changed(file)
  }
}

function changed (file: HashFile): MetainfoError {
  return new MetainfoError('ET_CHANGED', `${file.path} changed while it was being hashed; try again once it is no longer being written`, { path: file.path })
}

class Aborted extends Error {}

const pool = new HasherPool()

async function runJob ({ id, files, pieceLength, totalBytes, abortFlag }: JobMessage): Promise<void> {
  const abort = new Int32Array(abortFlag)
  let lastReport = 0
  const job = pool.begin(Math.ceil(totalBytes / pieceLength), () => {
    const now = Date.now()
    if (now - lastReport < PROGRESS_INTERVAL_MS) return
    lastReport = now
    post({ id, type: 'progress', bytesHashed: job.bytesHashed })
  })
  const reader = new ContentReader(files)
  try {
    for (let start = 0; start < totalBytes; start += CHUNK_BYTES) {
      if (Atomics.load(abort, 0) !== 0) throw new Aborted()
      const length = Math.min(CHUNK_BYTES, totalBytes - start)
      const slot = await pool.takeSlot()
      try {
        reader.fill(new Uint8Array(pool.slots, slot * CHUNK_BYTES, length), length)
      } catch (error) {
        pool.giveBack(slot)
        throw error
      }
      pool.send({ slot, length, start, pieceLength, totalBytes })
    }
    reader.finish()
    await pool.drain()
    post({ id, type: 'progress', bytesHashed: job.bytesHashed })
    post({ id, type: 'done', pieces: job.pieces }, [job.pieces.buffer as ArrayBuffer])
  } catch (error) {
    reader.release()
    await pool.drain()
    if (error instanceof Aborted) post({ id, type: 'aborted' })
    else if (error instanceof MetainfoError) post({ id, type: 'error', code: error.code, message: error.message, ...(error.path !== undefined && { path: error.path }) })
    else post({ id, type: 'error', code: 'ET_READ', message: error instanceof Error ? error.message : String(error) })
  }
}

// One job at a time: the caller queues them, so messages here never overlap.
port.on('message', (job: JobMessage) => { void runJob(job) })
