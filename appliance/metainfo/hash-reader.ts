import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs'
import { parentPort, Worker, workerData } from 'node:worker_threads'
import { MetainfoError } from './errors.js'
import { fsError } from './content.js'
import { CHUNK_BYTES, type DigestsMessage, type HashFile, type ReaderData, type ReaderMessage } from './hash-protocol.js'

/*
 * The reader thread: reads the files once, in order, with synchronous reads (cheap here, and the
 * caller's event loop is never blocked), and hands fixed-size chunks to the hashing threads. Memory is
 * the small pool of chunk buffers plus 20 bytes per piece, whatever the size of the content.
 */

const PROGRESS_INTERVAL_MS = 100
const { files, pieceLength, totalBytes, threads } = workerData as ReaderData
const port = parentPort!

function post (message: ReaderMessage, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer)
}

class HasherPool {
  private readonly workers: Worker[]
  private readonly outstanding: number[]
  private readonly free: ArrayBuffer[] = []
  private allocated = 0
  private readonly capacity: number
  private wake: (() => void) | undefined
  private pieceOwner = 0
  readonly pieces: Uint8Array
  bytesHashed = 0

  constructor (onHashed: () => void, private readonly onFailure: (error: Error) => void) {
    this.capacity = threads * 3
    this.pieces = new Uint8Array(Math.ceil(totalBytes / pieceLength) * 20)
    this.outstanding = new Array<number>(threads).fill(0)
    this.workers = Array.from({ length: threads }, (_, index) => {
      const worker = new Worker(new URL('./hash-worker.js', import.meta.url), { workerData: { pieceLength, totalBytes } })
      worker.on('message', (reply: DigestsMessage) => {
        if (reply.firstPiece >= 0) this.pieces.set(reply.digests, reply.firstPiece * 20)
        this.bytesHashed += reply.length
        this.outstanding[index]! -= 1
        this.free.push(reply.buffer)
        onHashed()
        this.wakeUp()
      })
      worker.on('error', (error) => this.onFailure(error))
      return worker
    })
  }

  async takeBuffer (): Promise<ArrayBuffer> {
    while (this.free.length === 0 && this.allocated >= this.capacity) await this.sleep()
    const buffer = this.free.pop()
    if (buffer !== undefined) return buffer
    this.allocated += 1
    return new ArrayBuffer(CHUNK_BYTES)
  }

  /** A piece longer than a chunk must be hashed by one thread, so its chunks follow it there. */
  send (buffer: ArrayBuffer, length: number, start: number): void {
    if (pieceLength <= CHUNK_BYTES || start % pieceLength === 0) this.pieceOwner = this.leastBusy()
    this.outstanding[this.pieceOwner]! += 1
    this.workers[this.pieceOwner]!.postMessage({ buffer, length, start }, [buffer])
  }

  async drain (): Promise<void> {
    while (this.outstanding.some((count) => count > 0)) await this.sleep()
    await Promise.all(this.workers.map(async (worker) => await worker.terminate()))
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

/** Walks the files in torrent order, filling chunks that may span file boundaries. */
class ContentReader {
  private fileIndex = 0
  private fd = -1
  private fileOffset = 0

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
    while (this.fileIndex < files.length) this.checkEmptyFile(files[this.fileIndex++]!)
  }

  private currentFile (): HashFile {
    while (this.fd < 0) {
      const file = files[this.fileIndex]!
      if (file.size === 0) {
        this.checkEmptyFile(file)
        this.fileIndex += 1
        continue
      }
      this.fd = this.open(file)
      this.fileOffset = 0
    }
    return files[this.fileIndex]!
  }

  private open (file: HashFile): number {
    let fd: number
    try {
      fd = openSync(file.path, 'r')
    } catch (error) {
      throw fsError(error, file.path)
    }
    this.fd = fd
    this.checkUnchanged(file)
    return fd
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
    closeSync(this.fd)
    this.fd = -1
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

/** The caller terminates this thread when it gets the error. */
function reportFailure (error: unknown): void {
  if (error instanceof MetainfoError) {
    post({ type: 'error', code: error.code, message: error.message, ...(error.path !== undefined && { path: error.path }) })
  } else {
    post({ type: 'error', code: 'ET_READ', message: error instanceof Error ? error.message : String(error) })
  }
}

async function run (): Promise<void> {
  let lastReport = 0
  const pool = new HasherPool(() => {
    const now = Date.now()
    if (now - lastReport < PROGRESS_INTERVAL_MS) return
    lastReport = now
    post({ type: 'progress', bytesHashed: pool.bytesHashed })
  }, reportFailure)
  const reader = new ContentReader()
  for (let start = 0; start < totalBytes; start += CHUNK_BYTES) {
    const length = Math.min(CHUNK_BYTES, totalBytes - start)
    const buffer = await pool.takeBuffer()
    reader.fill(new Uint8Array(buffer), length)
    pool.send(buffer, length, start)
  }
  reader.finish()
  await pool.drain()
  post({ type: 'progress', bytesHashed: pool.bytesHashed })
  post({ type: 'done', pieces: pool.pieces }, [pool.pieces.buffer as ArrayBuffer])
}

run().catch(reportFailure)
