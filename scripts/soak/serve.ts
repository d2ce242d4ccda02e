/**
 * `evertorrent serve` as the systemd unit runs it (its node flags and Environment=), with the soak's
 * config file, and its logfmt log: read line by line, counted, and handed to whoever waits for one.
 * Lines are not kept (an hour of them is a lot), only the last few for error messages.
 */
import type { ChildProcess } from 'node:child_process'
import { EventEmitter } from 'node:events'
import { exitOf, spawnTracked, stopChild, type Exit } from '../../test/helpers/child-process.js'
import { onLines } from '../../test/helpers/line-log.js'
import { parseLogLine, serviceProcess, type LogLine, type ServePorts } from '../../test/helpers/serve-process.js'
import type { OpenFilesLimit } from './unit-limits.js'

const TAIL_LINES = 30

export class Serve extends EventEmitter<{ line: [LogLine] }> {
  /** Warnings and errors by message: how many, and the first one whole. */
  readonly problems = new Map<string, { count: number, first: LogLine }>()
  private readonly tail: string[] = []
  private readonly stderr: string[] = []
  private exitInfo: Exit | undefined
  ports: ServePorts = { http: 0, tracker: 0, peer: 0 }

  private constructor (readonly child: ChildProcess) {
    super()
    this.setMaxListeners(100)
    onLines(child.stdout!, (text) => { this.onLine(text) })
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr.push(chunk)
      if (this.stderr.length > TAIL_LINES) this.stderr.shift()
    })
    void exitOf(child).then((exit) => { this.exitInfo = exit })
  }

  /** Spawns serve with that open-files limit (prlimit execs node: same PID) and resolves once it logs `ready`. */
  static async start (cli: string, configPath: string, env: NodeJS.ProcessEnv, openFiles: OpenFilesLimit): Promise<Serve> {
    const unit = serviceProcess()
    const child = spawnTracked('prlimit', [`--nofile=${openFiles.soft}:${openFiles.hard}`, '--', process.execPath, ...unit.nodeFlags, cli, 'serve', '--config', configPath], { env: { ...env, ...unit.env } })
    const serve = new Serve(child)
    const ready = await serve.waitFor((line) => line.msg === 'ready', 60_000, 'msg=ready')
    serve.ports = { http: Number(ready.http_port), tracker: Number(ready.tracker_port), peer: Number(ready.peer_port) }
    return serve
  }

  get pid (): number {
    return this.child.pid!
  }

  /** Undefined while it runs. */
  get exit (): Exit | undefined {
    return this.exitInfo
  }

  get running (): boolean {
    return this.child.exitCode === null && this.child.signalCode === null
  }

  /** The next line (from now on) that matches; rejects after `timeoutMs` or when serve exits. */
  async waitFor (match: (line: LogLine) => boolean, timeoutMs: number, what: string): Promise<LogLine> {
    return await new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer)
        this.off('line', onLine)
        this.child.off('exit', onExit)
      }
      const onLine = (line: LogLine): void => {
        if (!match(line)) return
        done()
        resolve(line)
      }
      const onExit = (): void => {
        done()
        reject(new Error(`evertorrent serve exited while waiting for ${what}:\n${this.describe()}`))
      }
      const timer = setTimeout(() => {
        done()
        reject(new Error(`no ${what} from evertorrent serve within ${timeoutMs / 1000} s`))
      }, timeoutMs)
      this.on('line', onLine)
      this.child.once('exit', onExit)
    })
  }

  reload (): void {
    this.child.kill('SIGHUP')
  }

  async stop (): Promise<Exit> {
    return await stopChild(this.child, 30_000)
  }

  describe (): string {
    return `${this.tail.join('\n')}\nstderr: ${this.stderr.join('').slice(-3000)}`
  }

  /** Messages that embed details (a path, a peer) are each a key; past 100 keys, the rest are only counted. */
  private countProblem (line: LogLine): void {
    const known = this.problems.get(line.msg)
    if (known !== undefined) known.count++
    else if (this.problems.size < 100) this.problems.set(line.msg, { count: 1, first: line })
    else this.problems.set('(other messages)', { count: (this.problems.get('(other messages)')?.count ?? 0) + 1, first: line })
  }

  private onLine (text: string): void {
    this.tail.push(text)
    if (this.tail.length > TAIL_LINES) this.tail.shift()
    const line = parseLogLine(text)
    if (line === undefined) return
    if (line.level === 'warn' || line.level === 'error') this.countProblem(line)
    this.emit('line', line)
  }
}
