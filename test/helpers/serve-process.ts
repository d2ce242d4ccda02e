import { spawn, type ChildProcessByStdio } from 'node:child_process'
import type { Readable } from 'node:stream'
import { once } from 'node:events'
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import type { ExecutionContext } from 'ava'
import { stringify } from 'smol-toml'
import { cliPath } from './repo.js'

export interface LogLine {
  readonly level: string
  readonly msg: string
  readonly [field: string]: string
}

/** Parses one logfmt line as `evertorrent serve` writes it. */
export function parseLogLine (line: string): LogLine | undefined {
  const fields: Record<string, string> = {}
  for (const match of line.matchAll(/(\w+)=("(?:[^"\\]|\\.)*"|\S+)/g)) {
    fields[match[1]!] = match[2]!.startsWith('"') ? JSON.parse(match[2]!) as string : match[2]!
  }
  return fields.level !== undefined && fields.msg !== undefined ? fields as unknown as LogLine : undefined
}

export interface ServeOptions {
  readonly libraries: readonly string[]
  readonly stateDir: string
  readonly extraArgs?: readonly string[]
  /**
   * Settings for the config file, by dotted key (`'library.rescan_interval': 1`), over the test
   * defaults: LSD off and every port on 127.0.0.1, so nothing leaves loopback.
   */
  readonly settings?: Readonly<Record<string, unknown>>
  /** Environment variables over this process's own (e.g. NOTIFY_SOCKET). */
  readonly env?: Readonly<Record<string, string>>
  /**
   * Runs serve's command line through a wrapper (into a memory cgroup, under prlimit: see
   * memory-cgroup.ts). The wrapper must exec serve, so that the child's PID is serve's own.
   */
  readonly wrap?: (argv: readonly string[]) => string[]
}

const TEST_SETTINGS: Readonly<Record<string, unknown>> = {
  'seeder.local_discovery': false,
  // Content written by a test is complete when written; tests of the settle rule set their own.
  'library.settle_seconds': 0,
  'network.listen_host': '127.0.0.1'
}

/** A TOML config file from dotted keys, one table per section. */
function configText (settings: Readonly<Record<string, unknown>>): string {
  const tables: Record<string, Record<string, unknown>> = {}
  for (const [key, value] of Object.entries(settings)) {
    const [section, name] = key.split('.') as [string, string]
    tables[section] = { ...tables[section], [name]: value }
  }
  return stringify(tables)
}

/** A running `evertorrent serve`, its log, and helpers to wait for what it reports. */
export class ServeProcess {
  readonly lines: LogLine[] = []
  readonly stderr: string[] = []
  /** The config file it was started with; `writeConfig` rewrites it (then send SIGHUP to reload). */
  configPath = ''
  private readonly waiters = new Set<() => void>()
  private exited = false

  private constructor (readonly child: ChildProcessByStdio<null, Readable, Readable>) {
    let pending = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      pending += chunk
      const complete = pending.split('\n')
      pending = complete.pop()!
      for (const text of complete) {
        const line = parseLogLine(text)
        if (line !== undefined) this.lines.push(line)
      }
      for (const wake of this.waiters) wake()
    })
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => this.stderr.push(chunk))
    child.once('exit', () => {
      this.exited = true
      for (const wake of this.waiters) wake()
    })
  }

  /** Starts serve on loopback with free ports and LSD off; stopped (SIGKILL if need be) when the test ends. */
  static async start (t: ExecutionContext, options: ServeOptions): Promise<ServeProcess> {
    const configPath = join(dirname(options.stateDir), `${Date.now()}-${Math.random().toString(36).slice(2)}.toml`)
    mkdirSync(dirname(configPath), { recursive: true })
    writeFileSync(configPath, configText({ ...TEST_SETTINGS, ...options.settings }))
    const args = [cliPath, 'serve', '--config', configPath, '--state-dir', options.stateDir, '--http-port', '0', '--tracker-port', '0', '--peer-port', '0',
      '--announce-host', '127.0.0.1', ...options.libraries.flatMap((library) => ['--library', library]), ...(options.extraArgs ?? [])]
    const [file, ...argv] = options.wrap?.([process.execPath, ...args]) ?? [process.execPath, ...args]
    const child = spawn(file!, argv, { stdio: ['ignore', 'pipe', 'pipe'], ...(options.env !== undefined && { env: { ...process.env, ...options.env } }) })
    const serve = new ServeProcess(child)
    serve.configPath = configPath
    t.teardown(async () => await serve.stop())
    await serve.waitFor((line) => line.msg === 'ready', 30_000)
    return serve
  }

  /** Replaces the config file with the test defaults plus `settings`. */
  writeConfig (settings: Readonly<Record<string, unknown>>): void {
    writeFileSync(this.configPath, configText({ ...TEST_SETTINGS, ...settings }))
  }

  get ready (): LogLine {
    return this.lines.find((line) => line.msg === 'ready')!
  }

  get httpPort (): number {
    return Number(this.ready.http_port)
  }

  get trackerPort (): number {
    return Number(this.ready.tracker_port)
  }

  get peerPort (): number {
    return Number(this.ready.peer_port)
  }

  get running (): boolean {
    return !this.exited
  }

  /** Resolves with the first log line (already seen or coming) that matches. */
  async waitFor (match: (line: LogLine) => boolean, timeoutMs = 60_000): Promise<LogLine> {
    const lines = await this.waitForCount(match, 1, timeoutMs)
    return lines[0]!
  }

  /** Resolves once `count` log lines match, with those lines. */
  async waitForCount (match: (line: LogLine) => boolean, count: number, timeoutMs = 60_000): Promise<LogLine[]> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const found = this.lines.filter(match)
      if (found.length >= count) return found.slice(0, count)
      if (this.exited) throw new Error(`evertorrent serve exited before ${count} matching log lines:\n${this.describe()}`)
      const remaining = deadline - Date.now()
      if (remaining <= 0) throw new Error(`timed out waiting for ${count} matching log lines (saw ${found.length}):\n${this.describe()}`)
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          clearTimeout(timer)
          this.waiters.delete(wake)
          resolve()
        }
        const timer = setTimeout(wake, remaining)
        this.waiters.add(wake)
      })
    }
  }

  /** SIGTERM, then SIGKILL after 10 s; resolves with the exit code. */
  async stop (): Promise<number | null> {
    if (this.exited) return this.child.exitCode
    const exit = once(this.child, 'exit')
    this.child.kill('SIGTERM')
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000)
    await exit
    clearTimeout(timer)
    return this.child.exitCode
  }

  describe (): string {
    const log = this.lines.slice(-20).map((line) => JSON.stringify(line)).join('\n')
    return `${log}\nstderr: ${this.stderr.join('').slice(-2000)}`
  }
}
