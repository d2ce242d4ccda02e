import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { describeExit, spawnTracked, stopChild, type Exit } from '../../helpers/child-process.js'
import { tempHome } from '../../helpers/temp-home.js'
import { ClientError } from './downloader.js'

export interface ClientProcessOptions {
  readonly env?: NodeJS.ProcessEnv
  /** Called with every stdout line, for clients that report on stdout (our libtorrent scripts). */
  readonly onStdoutLine?: (line: string) => void
}

/** Lines of output kept for error messages. */
const tailLines = 80

/**
 * A client's process: its stdout and stderr kept as a log tail, its exit observed, and `stop()` that
 * signals it by PID and waits until it is really gone. Every driver stops its process in a `finally`.
 */
export class ClientProcess {
  readonly client: string
  readonly pid: number
  /** Settles when the process has exited and its output is drained. */
  readonly exited: Promise<Exit>
  #exit: Exit | undefined
  readonly #child: ChildProcess
  readonly #lines: string[] = []

  private constructor (client: string, child: ChildProcess, options: ClientProcessOptions) {
    this.client = client
    this.#child = child
    this.pid = child.pid!
    const stdout = createInterface({ input: child.stdout! })
    const stderr = createInterface({ input: child.stderr! })
    stdout.on('line', (line) => {
      this.#keep(line)
      options.onStdoutLine?.(line)
    })
    stderr.on('line', (line) => this.#keep(line))
    this.exited = Promise.all([once(child, 'close'), once(stdout, 'close'), once(stderr, 'close')]).then(([[code, signal]]) => {
      this.#exit = { code, signal }
      return this.#exit
    })
  }

  /** Starts `command` with a home of its own; a missing binary is an ET_CLIENT_MISSING error, never a skip. */
  static async start (client: string, command: string, args: readonly string[], options: ClientProcessOptions = {}): Promise<ClientProcess> {
    const home = tempHome(options.env)
    // stdin stays an open pipe that nobody writes: our Python scripts exit when it closes, so they die with us.
    const child = spawnTracked(command, args, { stdio: ['pipe', 'pipe', 'pipe'], env: home.env })
    try {
      await once(child, 'spawn')
    } catch (error) {
      home.remove()
      throw missingOrFailed(client, command, error)
    }
    const process = new ClientProcess(client, child, options)
    void process.exited.finally(home.remove)
    return process
  }

  get hasExited (): boolean {
    return this.#exit !== undefined
  }

  /** The last lines the process wrote, stdout and stderr interleaved. */
  logTail (): string {
    return this.#lines.join('\n')
  }

  /** An ET_CLIENT_FAILED error carrying the log tail, for a step of the driver that went wrong. */
  failure (message: string, cause?: unknown): ClientError {
    const detail = cause instanceof Error ? `: ${cause.message}` : ''
    return new ClientError('ET_CLIENT_FAILED', this.client, `${message}${detail}`, { logTail: this.logTail(), cause })
  }

  /** SIGTERM by PID, then SIGKILL after `graceMs`; resolves once the process is gone and its output drained. */
  async stop (graceMs = 5000): Promise<Exit> {
    await stopChild(this.#child, graceMs)
    return await this.exited
  }

  #keep (line: string): void {
    this.#lines.push(line)
    if (this.#lines.length > tailLines) this.#lines.shift()
  }
}

/** Runs a command to completion and returns its stdout and stderr (for `--version`). */
export async function runToCompletion (client: string, command: string, args: readonly string[]): Promise<string> {
  const child = await ClientProcess.start(client, command, args)
  const exit = await child.exited
  if (exit.code !== 0) throw new ClientError('ET_CLIENT_FAILED', client, `${command} ${args.join(' ')} exited with ${describeExit(exit)}`, { logTail: child.logTail() })
  return child.logTail()
}

function missingOrFailed (client: string, command: string, error: unknown): ClientError {
  if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
    return new ClientError('ET_CLIENT_MISSING', client, `${command} is not installed; scripts/install-test-deps.sh installs the test clients`, { cause: error })
  }
  return new ClientError('ET_CLIENT_FAILED', client, `could not start ${command}: ${(error as Error).message}`, { cause: error })
}
