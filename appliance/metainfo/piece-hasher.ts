import { stat } from 'node:fs/promises'
import { availableParallelism } from 'node:os'
import { once } from 'node:events'
import { setImmediate as nextTurn } from 'node:timers/promises'
import { Worker } from 'node:worker_threads'
import { changedWhileHashing, fsError, MetainfoError } from './errors.js'
import { howFileChanged } from './file-change.js'
import { FileListing } from './file-listing.js'
import { ABORT, BYTES_HASHED, CONTROL_BYTES, unitBytesFor, type HashFile, type JobMessage, type JobReply } from './hash-protocol.js'
import { HASH_BYTES } from './merkle.js'
import { pieceAlignedLayout } from './piece-alignment.js'
import type { TorrentFormat } from './torrent-format.js'
import { chunkBuffer, hashUnits } from './unit-hasher.js'

export interface HashProgress {
  readonly bytesHashed: number
  readonly totalBytes: number
}

export interface HashJobOptions {
  readonly pieceLength: number
  readonly signal?: AbortSignal
  readonly onProgress?: (progress: HashProgress) => void
}

export interface FormatJobOptions extends HashJobOptions {
  readonly format: TorrentFormat
}

/** What one read of the content gives for a torrent of each format. */
export interface HashedPieces {
  /** SHA-1 of each piece, 20 bytes each (v1 and hybrid; empty for v2). */
  readonly pieces: Buffer
  /**
   * Hybrid and v2 (BEP 52): per piece of the piece space (files aligned on pieces, `pieceAlignedLayout`),
   * the root of its SHA-256 merkle subtree, 32 bytes each: the files' piece layers one after the
   * other, or the pieces root itself for a file smaller than a piece.
   */
  readonly pieceLayer?: Buffer
}

export interface HashOptions extends HashJobOptions {
  /** Hashing threads; default: one per core. */
  readonly threads?: number
}

export interface HashPoolOptions {
  /**
   * The calling thread is one of the hashing threads, in slices of a few milliseconds between which
   * its event loop runs. A thread of its own costs about 8 MB (a V8 isolate); a caller with nothing
   * else to do (the CLI) saves that. Reads are synchronous then, so a slow drive slows the caller's
   * event loop too: not for the service.
   */
  readonly useCallingThread?: boolean
}

/** How long an aborted job may take to notice; a thread stuck in a read (a dying drive) is then killed. */
const ABORT_GRACE_MS = 250
/** Threads left idle this long are stopped; the next job starts them again (about 30 ms). */
const IDLE_THREADS_MS = 10_000
const PROGRESS_INTERVAL_MS = 100
/** How long the calling thread hashes before it lets its event loop run (see `useCallingThread`). */
const CALLING_THREAD_SLICE_MS = 10
/**
 * A hashing thread allocates little (a digest per piece, a stat per read), so a small young
 * generation is enough; the default one grows by about 2 MB more per thread (measured on 2 threads).
 */
const THREAD_LIMITS = { maxYoungGenerationSizeMb: 2 }

export function defaultThreadCount (): number {
  return availableParallelism()
}

/**
 * Hashes pieces on threads that live from the first job to `close()` (or until idle for a while).
 * Every thread of a job claims units of the content in turn and reads them itself, so there is no
 * reader in between and memory is one chunk per thread. Jobs run one after the other. Idle threads
 * do not keep the process alive.
 */
export class HashPool {
  private workers: Worker[] = []
  private queue: Promise<unknown> = Promise.resolve()
  private pending = 0
  private idleTimer: NodeJS.Timeout | undefined
  private callingThreadChunk: Uint8Array | undefined
  readonly threads: number
  private readonly useCallingThread: boolean

  constructor (threads: number = defaultThreadCount(), options: HashPoolOptions = {}) {
    if (!Number.isSafeInteger(threads) || threads < 1) throw new MetainfoError('ET_BAD_OPTION', `thread count must be a positive whole number, not ${threads}`)
    this.threads = threads
    this.useCallingThread = options.useCallingThread === true
  }

  /**
   * SHA-1 of every piece of the files laid end to end (BEP 3), as one buffer of 20-byte digests.
   * Rejects with ET_ABORTED as soon as `signal` aborts, with every file closed.
   */
  async hash (files: FileListing | readonly HashFile[], options: HashJobOptions): Promise<Buffer> {
    return (await this.hashFor(files, { ...options, format: 'v1' })).pieces
  }

  /** `hash` for a torrent of `format`: SHA-1 pieces, SHA-256 merkle subtrees of pieces, or both from one read. */
  async hashFor (files: FileListing | readonly HashFile[], options: FormatJobOptions): Promise<HashedPieces> {
    const listing = files instanceof FileListing ? files : FileListing.ofFiles(files)
    clearTimeout(this.idleTimer)
    this.pending += 1
    const run = this.queue.then(async () => await this.run(listing, options))
    this.queue = run.catch(() => {}).finally(() => {
      this.pending -= 1
      // Idle threads cost megabytes on a 512 MB board: let them go until the next drive comes.
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
    const workers = this.workers
    this.workers = []
    this.callingThreadChunk = undefined
    await Promise.all(workers.map(async (worker) => await worker.terminate()))
  }

  /**
   * The first `count` threads, each as soon as it is running: started as needed (a job of one unit
   * needs only one) and one after the other, since a thread needs about 7 MB more while it starts
   * than once it runs, and together they would need it at the same time.
   */
  private async * threadsOnline (count: number): AsyncGenerator<Worker> {
    for (let index = 0; index < count; index++) {
      if (index >= this.workers.length) {
        const worker = new Worker(new URL('./hash-worker.js', import.meta.url), { resourceLimits: THREAD_LIMITS })
        worker.once('exit', () => { this.workers = this.workers.filter((other) => other !== worker) })
        this.workers.push(worker)
        await once(worker, 'online')
        worker.unref()
      }
      yield this.workers[index]!
    }
  }

  private async run (files: FileListing, { pieceLength, signal, onProgress, format }: FormatJobOptions): Promise<HashedPieces> {
    if (signal?.aborted === true) throw aborted()
    const totalBytes = format === 'v1' ? files.totalBytes : pieceAlignedLayout(files.data.sizes, pieceLength).totalBytes
    const pieceCount = Math.ceil(totalBytes / pieceLength)
    const job: JobMessage = {
      files: files.data,
      pieceLength,
      totalBytes,
      control: new SharedArrayBuffer(CONTROL_BYTES),
      pieces: new SharedArrayBuffer(format === 'v2' ? 0 : pieceCount * 20),
      ...(format !== 'v1' && { layer: new SharedArrayBuffer(pieceCount * HASH_BYTES) })
    }
    const bytesHashed = (): number => Number(Atomics.load(new BigInt64Array(job.control), BYTES_HASHED))
    const progress = onProgress === undefined
      ? undefined
      : setInterval(() => onProgress({ bytesHashed: bytesHashed(), totalBytes }), PROGRESS_INTERVAL_MS)
    const onAbort = (): void => { Atomics.store(new Int32Array(job.control), ABORT, 1) }
    signal?.addEventListener('abort', onAbort, { once: true })
    try {
      const threads = totalBytes === 0 ? 0 : Math.min(this.threads, Math.ceil(totalBytes / unitBytesFor(pieceLength)))
      const here = this.useCallingThread && threads > 0
      // Units are claimed, not handed out: a thread that comes online late just claims fewer.
      const outcomes: Array<Promise<Outcome>> = here ? [hashOnCallingThread(job, this.callingThreadChunk ??= chunkBuffer())] : []
      for await (const worker of this.threadsOnline(here ? threads - 1 : threads)) outcomes.push(runOn(worker, job, signal))
      const replies = await Promise.all(outcomes)
      const failure = replies.find((reply) => reply.type !== 'done' && reply.type !== 'aborted')
      if (failure !== undefined) throw errorOf(failure)
      if (replies.some((reply) => reply.type === 'aborted')) throw aborted()
      await checkEmptyFiles(files)
      onProgress?.({ bytesHashed: bytesHashed(), totalBytes })
      return {
        pieces: Buffer.from(new Uint8Array(job.pieces)),
        ...(job.layer !== undefined && { pieceLayer: Buffer.from(new Uint8Array(job.layer)) })
      }
    } finally {
      clearInterval(progress)
      signal?.removeEventListener('abort', onAbort)
    }
  }
}

/** A thread's reply, or what the pool saw when the thread died instead. */
type Outcome = JobReply | { readonly type: 'failed', readonly message: string }

/** A thread's failure, as a person should read it. */
function errorOf (reply: Outcome): MetainfoError {
  if (reply.type === 'changed') return changedWhileHashing(reply.path, reply.detail)
  if (reply.type === 'fs-error') return fsError(Object.assign(new Error(reply.message), { code: reply.code }), reply.path)
  return new MetainfoError('ET_READ', reply.type === 'failed' ? reply.message : `hashing ended with "${reply.type}"`)
}

/** The calling thread's share of `job`, hashed in slices so its event loop (progress, signals) keeps running. */
async function hashOnCallingThread (job: JobMessage, chunk: Uint8Array): Promise<Outcome> {
  const steps = hashUnits(job, chunk)
  let sliceStart = performance.now()
  try {
    for (;;) {
      const step = steps.next()
      if (step.done === true) return step.value
      if (performance.now() - sliceStart < CALLING_THREAD_SLICE_MS) continue
      await nextTurn()
      sliceStart = performance.now()
    }
  } catch (error) {
    Atomics.store(new Int32Array(job.control), ABORT, 1)
    return { type: 'failed', message: `hashing failed: ${error instanceof Error ? error.message : String(error)}` }
  }
}

/** Hands `job` to one thread and waits for its reply; a thread that does not stop after an abort is killed. */
async function runOn (worker: Worker, job: JobMessage, signal: AbortSignal | undefined): Promise<Outcome> {
  return await new Promise<Outcome>((resolve) => {
    let killTimer: NodeJS.Timeout | undefined
    const finish = (reply: Outcome): void => {
      clearTimeout(killTimer)
      signal?.removeEventListener('abort', onAbort)
      worker.off('message', finish)
      worker.off('error', onError)
      worker.off('exit', onExit)
      worker.unref()
      resolve(reply)
    }
    const onAbort = (): void => { killTimer = setTimeout(() => { void worker.terminate() }, ABORT_GRACE_MS) }
    // A thread that dies leaves its units undone: the others must stop too.
    const fail = (message: string): void => {
      Atomics.store(new Int32Array(job.control), ABORT, 1)
      finish({ type: 'failed', message })
    }
    const onError = (error: Error): void => fail(`hashing failed: ${error.message}`)
    const onExit = (): void => { if (signal?.aborted === true) finish({ type: 'aborted' }); else fail('hashing stopped unexpectedly') }
    signal?.addEventListener('abort', onAbort, { once: true })
    worker.on('message', finish)
    worker.once('error', onError)
    worker.once('exit', onExit)
    worker.ref()
    worker.postMessage(job)
  })
}

/** Zero-length files hold no bytes to read, but must still be there, and still the files listed, once the rest is hashed. */
async function checkEmptyFiles (files: FileListing): Promise<void> {
  for (let index = 0; index < files.length; index++) {
    if (files.size(index) !== 0) continue
    const file = files.at(index)!
    let change: string | undefined
    try {
      change = howFileChanged(file, await stat(file.absolutePath))
    } catch (error) {
      throw fsError(error, file.absolutePath)
    }
    if (change !== undefined) throw changedWhileHashing(file.absolutePath, change)
  }
}

/**
 * Hashes one set of files on a pool of its own, closed afterwards (see `HashPool.hash`); the caller
 * waits for it, so the calling thread is one of the hashing threads.
 */
export async function hashPieces (files: FileListing | readonly HashFile[], options: HashOptions): Promise<Buffer> {
  return (await hashPiecesFor(files, { ...options, format: 'v1' })).pieces
}

/** `hashPieces` for a torrent of `format` (see `HashPool.hashFor`). */
export async function hashPiecesFor (files: FileListing | readonly HashFile[], options: HashOptions & FormatJobOptions): Promise<HashedPieces> {
  const pool = new HashPool(options.threads, { useCallingThread: true })
  try {
    return await pool.hashFor(files, options)
  } finally {
    await pool.close()
  }
}

function aborted (): MetainfoError {
  return new MetainfoError('ET_ABORTED', 'hashing was aborted')
}
