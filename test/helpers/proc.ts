import { readFileSync, writeFileSync } from 'node:fs'
import { readdir, readlink } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'

// What a process uses, read in /proc by its PID: memory, CPU time, open files.

export interface Memory {
  /** VmHWM: the peak resident set size since start or since `resetPeak`. */
  readonly peakBytes: number
  /** VmRSS now. */
  readonly rssBytes: number
}

export function memoryOf (pid: number): Memory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const field = (name: string): number => {
    const match = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)
    if (match === null) throw new Error(`no ${name} in /proc/${pid}/status`)
    return Number(match[1]) * 1024
  }
  return { peakBytes: field('VmHWM'), rssBytes: field('VmRSS') }
}

/** Resets VmHWM to the current RSS (Linux ≥ 4.0: `5` to /proc/PID/clear_refs); false where that is not allowed. */
export function resetPeak (pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5')
    return true
  } catch {
    return false
  }
}

/** USER_HZ, 100 on every Linux architecture Node runs on. */
const CLOCK_TICKS_PER_SECOND = 100

/** User plus system CPU seconds the process has used (its threads included). */
export function cpuSecondsOf (pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // Fields after the command name, which is in parentheses and may hold spaces: state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND
}

/** How many file descriptors process `pid` holds. */
export async function descriptorCount (pid: number): Promise<number> {
  return (await readdir(`/proc/${pid}/fd`)).length
}

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
