import { setTimeout as delay } from 'node:timers/promises'

/** Waits `ms`, or less if `signal` aborts first; never throws. */
export async function sleep (ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted === true) return
  await delay(ms, undefined, signal === undefined ? {} : { signal }).catch(() => {})
}

/**
 * Runs `task` again and again, starting one every `intervalMs` (later if it takes longer: never two
 * at once, so a slow service slows the load instead of piling it up), until `signal` aborts.
 * A task's exception is the task's business: it is passed to `onError` and the pace goes on.
 */
export async function paced (signal: AbortSignal, intervalMs: number, task: () => Promise<void>, onError: (error: unknown) => void): Promise<void> {
  while (!signal.aborted) {
    const started = performance.now()
    try {
      await task()
    } catch (error) {
      onError(error)
    }
    await sleep(intervalMs - (performance.now() - started), signal)
  }
}

export function errorText (error: unknown): string {
  if (!(error instanceof Error)) return String(error)
  const code = (error as NodeJS.ErrnoException).code
  return code === undefined ? error.message : `${code}: ${error.message}`
}
