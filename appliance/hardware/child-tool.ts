import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import { HardwareError } from './errors.js'

const STDERR_LIMIT = 2000
const KILL_GRACE_MS = 2000

/**
 * A long-running helper (gpioset, gpiomon): started, watched, and stopped by its own PID.
 * `stderr` keeps the start of what it said, for the message when it ends unasked.
 */
export class ChildTool {
  readonly process: ChildProcess
  private stderrText = ''
  private stopping = false
  readonly exited: Promise<void>

  private constructor (readonly command: string, args: readonly string[], stdout: boolean) {
    this.process = spawn(command, args, { stdio: ['ignore', stdout ? 'pipe' : 'ignore', 'pipe'] })
    this.process.stderr!.setEncoding('utf8').on('data', (text: string) => {
      if (this.stderrText.length < STDERR_LIMIT) this.stderrText += text
    })
    this.exited = once(this.process, 'exit').then(() => {}, () => {})
  }

  /** Resolves once the process runs; rejects if it cannot be started or ends within `settleMs`. */
  static async start (command: string, args: readonly string[], options: { stdout?: boolean, settleMs?: number } = {}): Promise<ChildTool> {
    const tool = new ChildTool(command, args, options.stdout === true)
    await new Promise<void>((resolve, reject) => {
      tool.process.once('spawn', resolve)
      tool.process.once('error', (error: NodeJS.ErrnoException) => {
        reject(new HardwareError(error.code === 'ENOENT' ? 'ET_HW_MISSING' : 'ET_HW_IO', `cannot run ${command}: ${error.message}`, { path: command, cause: error }))
      })
    })
    const settleMs = options.settleMs ?? 0
    if (settleMs > 0) {
      const ended = await Promise.race([tool.exited.then(() => true), sleep(settleMs).then(() => false)])
      if (ended) throw tool.exitError()
    }
    return tool
  }

  get running (): boolean {
    return this.process.exitCode === null && this.process.signalCode === null
  }

  /** True when it ended without being asked to. */
  get failed (): boolean {
    return !this.stopping && !this.running
  }

  exitError (): HardwareError {
    const said = this.stderrText.trim().split('\n')[0] ?? ''
    const how = this.process.signalCode ?? `exit code ${String(this.process.exitCode)}`
    return new HardwareError('ET_HW_EXITED', `${this.command} ended (${how})${said === '' ? '' : `: ${said}`}`, { path: this.command })
  }

  async stop (): Promise<void> {
    this.stopping = true
    if (!this.running) return
    this.process.kill('SIGTERM')
    const ended = await Promise.race([this.exited.then(() => true), sleep(KILL_GRACE_MS).then(() => false)])
    if (!ended) {
      this.process.kill('SIGKILL')
      await this.exited
    }
  }
}
