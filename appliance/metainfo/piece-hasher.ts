import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import { MetainfoError, type MetainfoErrorCode } from './errors.js'
import type { HashFile, JobMessage, ReaderData, ReaderMessage } from './hash-protocol.js'

export interface HashProgress {
  readonly bytesHashed: number
  readonly totalBytes: number
}

export interface HashJobOptions {
  readonly pieceLength: number
  readonly signal?: AbortSignal
  readonly onProgress?: (progress: HashProgress) => void
}

export interface HashOptions extends HashJobOptions {
  /** Hashing threads; default: one per core. */
  readonly threads?: number
}

/** How long an aborted job may take to notice; a reader stuck in a read (a dying drive) is then killed. */
const ABORT_GRACE_MS = 250
/** Threads left idle this long are stopped; the next job starts them again (about 50 ms). */
const IDLE_THREADS_MS = 10_000

export function defaultThreadCount (): number {
  return availableParallelism()
}

/**
 * Hashes pieces on threads that live from the first job to `close()`: one reader thread that reads
 * each file once, in order, and `threads` hashing threads. Jobs run one after the other. Idle threads
 * do not keep the process alive.
 */
export class HashPool {
  private reader: Worker | undefined
  private nextId = 1
  private queue: Promise<unknown> = Promise.resolve()
  private pending = 0
  private idleTimer: NodeJS.Timeout | undefined
  readonly threads: number

  constructor (threads: number = defaultThreadCount()) {
    if (!Number.isSafeInteger(threads) || threads < 1) throw new MetainfoError('ET_BAD_OPTION', `thread count must be a positive whole number, not ${threads}`)
    this.threads = threads
  }

  /**
   * SHA-1 of every piece of the files laid end to end (BEP 3), as one buffer of 20-byte digests.
   * Rejects with ET_ABORTED as soon as `signal` aborts, with the file closed.
   */
  async hash (files: readonly HashFile[], options: HashJobOptions): Promise<Buffer> {
    clearTimeout(this.idleTimer)
    this.pending += 1
    const run = this.queue.then(async () => await this.run(files, options))
    this.queue = run.catch(() => {}).finally(() => {
      this.pending -= 1
      // Idle threads cost tens of MB on a 512 MB board: let them go until the next drive comes.
      if (this.pending === 0) this.idleTimer = setTimeout(() => { void this.stopThreads() }, IDLE_THREADS_MS).unref()
    })
    return await run
  }

  async close (): Promise<void> {
    clearTimeout(this.idleTimer)
    await this.queue
    await this.stopThreads()
  }

  private async stopThreads (): Promise<void> {
    const reader = this.reader
    this.reader = undefined
    await reader?.terminate()
  }

  private startReader (): Worker {
    const data: ReaderData = { threads: this.threads }
    const reader = new Worker(new URL('./hash-reader.js', import.meta.url), { workerData: data })
    reader.unref()
    reader.once('exit', () => { if (this.reader === reader) this.reader = undefined })
    this.reader = reader
    return reader
  }

  private async run (files: readonly HashFile[], { pieceLength, signal, onProgress }: HashJobOptions): Promise<Buffer> {
    if (signal?.aborted === true) throw aborted()
    const totalBytes = files.reduce((sum, file) => sum + file.size, 0)
    const reader = this.reader ?? this.startReader()
    const id = this.nextId++
    const abortFlag = new SharedArrayBuffer(4)
    const job: JobMessage = { id, files: files.map(({ path, size, mtimeMs }) => ({ path, size, mtimeMs })), pieceLength, totalBytes, abortFlag }

    return await new Promise<Buffer>((resolve, reject) => {
      let killTimer: NodeJS.Timeout | undefined
      const finish = (outcome: () => void): void => {
        clearTimeout(killTimer)
        signal?.removeEventListener('abort', onAbort)
        reader.off('message', onMessage)
        reader.off('error', onError)
        reader.off('exit', onExit)
        reader.unref()
        outcome()
      }
      const onAbort = (): void => {
        Atomics.store(new Int32Array(abortFlag), 0, 1)
        killTimer = setTimeout(() => { void reader.terminate() }, ABORT_GRACE_MS)
      }
      const onMessage = (message: ReaderMessage): void => {
        if (message.id !== id) return
        if (message.type === 'progress') onProgress?.({ bytesHashed: message.bytesHashed, totalBytes })
        else if (message.type === 'done') finish(() => resolve(Buffer.from(message.pieces.buffer, message.pieces.byteOffset, message.pieces.byteLength)))
        else if (message.type === 'aborted') finish(() => reject(aborted()))
        else finish(() => reject(new MetainfoError(message.code as MetainfoErrorCode, message.message, message.path !== undefined ? { path: message.path } : {})))
      }
      const onError = (error: Error): void => finish(() => reject(new MetainfoError('ET_READ', `hashing failed: ${error.message}`, { cause: error })))
      const onExit = (): void => finish(() => reject(signal?.aborted === true ? aborted() : new MetainfoError('ET_READ', 'hashing stopped unexpectedly')))
      signal?.addEventListener('abort', onAbort, { once: true })
      reader.on('message', onMessage)
      reader.once('error', onError)
      reader.once('exit', onExit)
      reader.ref()
      reader.postMessage(job)
    })
  }
}

/** Hashes one set of files on a pool of its own, closed afterwards (see `HashPool.hash`). */
export async function hashPieces (files: readonly HashFile[], options: HashOptions): Promise<Buffer> {
  const pool = new HashPool(options.threads)
  try {
    return await pool.hash(files, options)
  } finally {
    await pool.close()
  }
}

function aborted (): MetainfoError {
  return new MetainfoError('ET_ABORTED', 'hashing was aborted')
}
