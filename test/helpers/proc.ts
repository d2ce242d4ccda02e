import { readdir, readlink } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'

/** The file descriptors process `pid` holds on `path` (from /proc/<pid>/fd); `process.pid` for this process. */
export async function openDescriptors (pid: number, path: string): Promise<string[]> {
  const fds = await readdir(`/proc/${pid}/fd`).catch(() => [])
  const holding: string[] = []
  for (const fd of fds) {
    if (await readlink(`/proc/${pid}/fd/${fd}`).catch(() => undefined) === path) holding.push(fd)
  }
  return holding
}

/**
 * Resolves once process `pid` has `path` open, so a test can act while a child is in the middle of
 * reading a file instead of guessing with a delay. Rejects if `until` settles first (pass the child's
 * completion) or after `timeoutMs`; no timeout by default, as a loaded machine can be slow to get there.
 */
export async function waitForOpenFile (pid: number, path: string, until: Promise<unknown>, timeoutMs = Number.POSITIVE_INFINITY): Promise<void> {
  let ended = false
  void until.finally(() => { ended = true })
  const deadline = Date.now() + timeoutMs
  while (!ended && Date.now() < deadline) {
    if ((await openDescriptors(pid, path)).length > 0) return
    await sleep(2)
  }
  throw new Error(ended ? `process ${pid} ended without opening ${path}` : `process ${pid} did not open ${path} within ${timeoutMs} ms`)
}
