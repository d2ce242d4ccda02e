import { spawnTracked } from './child-process.js'
import { tempHome } from './temp-home.js'

export interface RunOptions {
  readonly cwd?: string
  readonly env?: NodeJS.ProcessEnv
  /** Run as this user and group (the caller must be root); supplementary groups are dropped. */
  readonly uid?: number
  readonly gid?: number
  /**
   * In a process group of its own, so that `killAllChildren` takes whatever it starts with it (a
   * script interrupted while a measured command runs under a wrapper).
   */
  readonly detached?: boolean
  /** Killed with SIGKILL after this long, so a hung child fails the test instead of the suite. */
  readonly timeoutMs?: number
  /** Called once the child has a PID, e.g. to watch what it opens. */
  readonly onSpawn?: (pid: number) => void
}

export interface RunResult {
  readonly command: string
  /** `null` when the child was killed by a signal. */
  readonly exitCode: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

/**
 * Runs a program to completion, with a home of its own, and collects its output. A program that is
 * not installed rejects with a message naming it: the tests drive real tools and must fail, not skip,
 * without them.
 */
export async function run (file: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const command = [file, ...args].join(' ')
  const home = tempHome(options.env)
  return await new Promise<RunResult>((resolve, reject) => {
    const child = spawnTracked(file, args, {
      env: home.env,
      ...(options.cwd !== undefined && { cwd: options.cwd }),
      ...(options.uid !== undefined && { uid: options.uid }),
      ...(options.gid !== undefined && { gid: options.gid }),
      ...(options.detached === true && { detached: true })
    })
    const stdout: Buffer[] = []
    const stderr: Buffer[] = []
    child.stdout!.on('data', (chunk: Buffer) => stdout.push(chunk))
    child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk))
    const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), options.timeoutMs)
    child.once('spawn', () => { if (child.pid !== undefined) options.onSpawn?.(child.pid) })
    child.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer)
      home.remove()
      reject(error.code === 'ENOENT' ? new Error(`${file} is not installed (needed by this test): ${error.message}`, { cause: error }) : error)
    })
    child.once('close', (exitCode, signal) => {
      clearTimeout(timer)
      home.remove()
      resolve({ command, exitCode, signal, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') })
    })
  })
}

/** Like `run`, but anything other than exit code 0 rejects with the command and its stderr. */
export async function runOk (file: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const result = await run(file, args, options)
  if (result.exitCode !== 0) {
    throw new Error(`${result.command} failed (exit ${String(result.exitCode)}, signal ${String(result.signal)}): ${result.stderr.trim()}`)
  }
  return result
}
