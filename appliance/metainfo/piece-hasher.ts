import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import { MetainfoError, type MetainfoErrorCode } from './errors.js'
import type { HashFile, ReaderData, ReaderMessage } from './hash-protocol.js'

export interface HashProgress {
  readonly bytesHashed: number
  readonly totalBytes: number
}

export interface HashOptions {
  readonly pieceLength: number
  /** Hashing threads; default: one per core. */
  readonly threads?: number
  readonly signal?: AbortSignal
  readonly onProgress?: (progress: HashProgress) => void
}

export function defaultThreadCount (): number {
  return availableParallelism()
}

/**
 * SHA-1 of every piece of the files laid end to end (BEP 3), as one buffer of 20-byte digests. Each
 * file is read once, in order, on a thread of its own; pieces are hashed on `threads` more threads.
 * Rejects with ET_ABORTED as soon as `signal` aborts.
 */
export async function hashPieces (files: readonly HashFile[], options: HashOptions): Promise<Buffer> {
  const { pieceLength, signal, onProgress } = options
  const threads = options.threads ?? defaultThreadCount()
  if (!Number.isSafeInteger(threads) || threads < 1) throw new MetainfoError('ET_BAD_OPTION', `thread count must be a positive whole number, not ${threads}`)
  const totalBytes = files.reduce((sum, file) => sum + file.size, 0)
  if (signal?.aborted === true) throw aborted()

  const data: ReaderData = { files: files.map(({ path, size, mtimeMs }) => ({ path, size, mtimeMs })), pieceLength, totalBytes, threads }
  const reader = new Worker(new URL('./hash-reader.js', import.meta.url), { workerData: data })

  return await new Promise<Buffer>((resolve, reject) => {
    let settled = false
    const settle = (outcome: () => void): void => {
      if (settled) return
      settled = true
      signal?.removeEventListener('abort', onAbort)
      reader.removeAllListeners('message')
      // Settle only once the threads are gone, so no file is still open (a drive can be unmounted at once).
      void reader.terminate().finally(outcome)
    }
    const onAbort = (): void => settle(() => reject(aborted()))
    signal?.addEventListener('abort', onAbort, { once: true })

    reader.on('message', (message: ReaderMessage) => {
      if (message.type === 'progress') onProgress?.({ bytesHashed: message.bytesHashed, totalBytes })
      else if (message.type === 'done') settle(() => resolve(Buffer.from(message.pieces.buffer, message.pieces.byteOffset, message.pieces.byteLength)))
      else settle(() => reject(new MetainfoError(message.code as MetainfoErrorCode, message.message, message.path !== undefined ? { path: message.path } : {})))
    })
    reader.on('error', (error) => settle(() => reject(new MetainfoError('ET_READ', `hashing failed: ${error.message}`, { cause: error }))))
    reader.on('exit', (code) => settle(() => reject(new MetainfoError('ET_READ', `hashing stopped unexpectedly (thread exit code ${code})`))))
  })
}

function aborted (): MetainfoError {
  return new MetainfoError('ET_ABORTED', 'hashing was aborted')
}
