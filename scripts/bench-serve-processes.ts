/**
 * Child processes for bench-serve: every one is tracked so that it can be killed by its PID when the
 * benchmark ends or fails, and read in /proc (peak RSS, CPU time).
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync, writeFileSync } from 'node:fs'

const live = new Set<ChildProcess>()

/** Spawns a tracked child; it is forgotten once it exits. */
export function spawnTracked (command: string, args: readonly string[], options: SpawnOptions = {}): ChildProcess {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options })
  live.add(child)
  child.once('exit', () => live.delete(child))
  child.once('error', () => live.delete(child))
  return child
}

export interface Exit {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
}

export async function exitOf (child: ChildProcess): Promise<Exit> {
  if (child.exitCode !== null || child.signalCode !== null) return { code: child.exitCode, signal: child.signalCode }
  const [code, signal] = await once(child, 'exit') as [number | null, NodeJS.Signals | null]
  return { code, signal }
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the child has exited. */
export async function stopChild (child: ChildProcess, graceMs = 10_000): Promise<Exit> {
  if (child.exitCode !== null || child.signalCode !== null) return { code: child.exitCode, signal: child.signalCode }
  const exit = exitOf(child)
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
  try {
    return await exit
  } finally {
    clearTimeout(timer)
  }
}

/** SIGKILL to every child still running, each by its PID. */
export function killAllChildren (): void {
  for (const child of live) {
    if (child.pid === undefined) continue
    try {
      process.kill(child.pid, 'SIGKILL')
    } catch {
      // Already gone.
    }
  }
}

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
