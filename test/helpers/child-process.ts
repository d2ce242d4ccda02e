/**
 * Child processes of the tests and of the scripts (benchmarks, soak): each one is tracked until it
 * exits, so that a script interrupted halfway can kill what is left of them, and every one is stopped
 * by its PID.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process'
import { once } from 'node:events'

/** Every child still running, and whether it leads a process group of its own (`detached`). */
const live = new Map<ChildProcess, { readonly group: boolean }>()

/** Spawns a tracked child: stdin ignored, stdout and stderr piped, unless `options` says otherwise. */
export function spawnTracked (command: string, args: readonly string[], options: SpawnOptions = {}): ChildProcess {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options })
  live.set(child, { group: options.detached === true })
  child.once('exit', () => live.delete(child))
  child.once('error', () => live.delete(child))
  return child
}

export interface Exit {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
}

export function describeExit (exit: Exit): string {
  return exit.signal !== null ? `signal ${exit.signal}` : `code ${exit.code}`
}

export async function exitOf (child: ChildProcess): Promise<Exit> {
  if (child.exitCode !== null || child.signalCode !== null) return { code: child.exitCode, signal: child.signalCode }
  const [code, signal] = await once(child, 'exit') as [number | null, NodeJS.Signals | null]
  return { code, signal }
}

/** SIGTERM, then SIGKILL after `graceMs`, each by PID; resolves once the child has exited. */
export async function stopChild (child: ChildProcess, graceMs = 10_000): Promise<Exit> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return { code: child.exitCode, signal: child.signalCode }
  const exit = exitOf(child)
  signal(child.pid, 'SIGTERM')
  const timer = setTimeout(() => signal(child.pid!, 'SIGKILL'), graceMs)
  try {
    return await exit
  } finally {
    clearTimeout(timer)
  }
}

/**
 * SIGKILL to every tracked child still running, by its PID; a detached one (a process group of its
 * own) with everything it started. Synchronous, for the way out of a signal handler.
 */
export function killAllChildren (): void {
  for (const [child, { group }] of live) {
    if (child.pid !== undefined) signal(group ? -child.pid : child.pid, 'SIGKILL')
  }
}

function signal (pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error
  }
}
