import { setTimeout as sleep } from 'node:timers/promises'
import { describeExit } from '../../helpers/child-process.js'
import type { ClientProcess } from './client-process.js'
import { ClientError } from './downloader.js'

export type Poll<T> = { readonly done: true, readonly value: T } | { readonly done: false, readonly status: string }

/**
 * Asks `check` every `intervalMs` until it is done. Fails with the process's log tail and the last
 * status `check` reported when `deadline` (epoch ms) passes or when the child process exits first.
 */
export async function pollUntil<T> (what: string, child: ClientProcess, deadline: number, check: () => Promise<Poll<T>>, intervalMs = 250): Promise<T> {
  let status = 'not checked yet'
  for (;;) {
    const exitedBefore = child.hasExited
    const poll = await check().catch((error: unknown): Poll<T> => ({ done: false, status: `check failed: ${(error as Error).message}` }))
    if (poll.done) return poll.value
    status = poll.status
    if (exitedBefore) {
      const exit = await child.exited
      throw new ClientError('ET_CLIENT_FAILED', child.client, `exited with ${describeExit(exit)} while waiting for ${what} (last status: ${status})`, { logTail: child.logTail() })
    }
    if (Date.now() > deadline) {
      throw new ClientError('ET_DOWNLOAD_TIMEOUT', child.client, `timed out waiting for ${what} (last status: ${status})`, { logTail: child.logTail() })
    }
    await sleep(intervalMs)
  }
}
