import type { ChildProcess } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { stringify } from 'smol-toml'
import { spawnTracked, stopChild } from './child-process.js'
import { LineLog, type Timed } from './line-log.js'
import { cliPath, repoRoot } from './repo.js'
import type { Teardown } from './teardown.js'

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

const SERVICE_UNIT = join(repoRoot, 'config', 'evertorrent.service')

/**
 * The node flags of the shipped systemd unit's ExecStart and its Environment= (V8 heap sizing, malloc
 * arenas), so that a benchmark measures the process as it runs on the box.
 */
export function serviceProcess (): { readonly nodeFlags: string[], readonly env: Record<string, string> } {
  const unit = readFileSync(SERVICE_UNIT, 'utf8')
  const execStart = /^ExecStart=(.*)$/m.exec(unit)?.[1]
  if (execStart === undefined) throw new Error(`no ExecStart= in ${SERVICE_UNIT}`)
  // `/usr/bin/node --flag … /usr/lib/evertorrent/dist/appliance/cli.js serve …`: the flags before the script.
  const words = execStart.trim().split(/\s+/).slice(1)
  const nodeFlags = words.slice(0, words.findIndex((word) => !word.startsWith('-')))
  const env = Object.fromEntries([...unit.matchAll(/^Environment=([^=\s]+)=(.*)$/gm)].map((match) => [match[1]!, match[2]!.trim()]))
  return { nodeFlags, env }
}

export interface ServePorts {
  readonly http: number
  readonly tracker: number
  readonly peer: number
}

export interface ServeOptions {
  readonly libraries: readonly string[]
  readonly stateDir: string
  readonly extraArgs?: readonly string[]
  /**
   * Settings for the config file, by dotted key (`'library.rescan_interval': 1`), over the test
   * defaults: LSD and the DHT off and every port on 127.0.0.1, so nothing leaves loopback.
   */
  readonly settings?: Readonly<Record<string, unknown>>
  /** Environment variables over this process's own (e.g. NOTIFY_SOCKET). */
  readonly env?: Readonly<Record<string, string>>
  /**
   * Runs serve's command line through a wrapper (into a memory cgroup, under prlimit: see
   * memory-cgroup.ts). The wrapper must exec serve, so that the child's PID is serve's own.
   */
  readonly wrap?: (argv: readonly string[]) => string[]
  /** Default: 0 for each, any free port. */
  readonly ports?: ServePorts
  /** With the node flags and Environment= of the shipped systemd unit (see `serviceProcess`). */
  readonly asService?: boolean
  /** The CLI to run; default: this build's. */
  readonly cli?: string
}

const TEST_SETTINGS: Readonly<Record<string, unknown>> = {
  'seeder.local_discovery': false,
  // The DHT's default bootstrap nodes are on the internet; DHT tests name their own.
  'dht.enabled': false,
  // Content written by a test is complete when written; tests of the settle rule set their own.
  'library.settle_seconds': 0,
  'network.listen_host': '127.0.0.1'
}

/** A TOML config file from dotted keys, one table per section. */
function configText (settings: Readonly<Record<string, unknown>>): string {
  const tables: Record<string, Record<string, unknown>> = {}
  for (const [key, value] of Object.entries(settings)) {
    // `mirror`: an array of tables ([[mirror]]), not a key of a [section].
    if (!key.includes('.')) {
      (tables as Record<string, unknown>)[key] = value
      continue
    }
    const [section, name] = key.split('.') as [string, string]
    tables[section] = { ...tables[section], [name]: value }
  }
  return stringify(tables)
}

/** A running `evertorrent serve`, its log, and helpers to wait for what it reports. */
export class ServeProcess {
  /** Its logfmt lines, each with the time it arrived. */
  readonly log: LineLog<LogLine>
  readonly stderr: string[] = []
  private exited = false

  /**
   * `configPath`: the config file it was started with; `writeConfig` rewrites it (then send SIGHUP to
   * reload). `spawnedAt`: performance.now() at spawn.
   */
  private constructor (readonly child: ChildProcess, readonly configPath: string, readonly spawnedAt: number) {
    this.log = new LineLog(child.stdout!, parseLogLine, () => this.describe())
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => this.stderr.push(chunk))
    child.once('exit', () => { this.exited = true })
  }

  /** Starts serve on loopback with free ports and LSD off; stopped (SIGKILL if need be) when the test ends. */
  static async start (t: Teardown, options: ServeOptions): Promise<ServeProcess> {
    const serve = ServeProcess.spawn(options)
    t.teardown(async () => { await serve.stop() })
    await serve.waitFor((line) => line.msg === 'ready', 30_000)
    return serve
  }

  /** `start` for a script, which stops it itself: resolves once it is ready; stops it if it never is. */
  static async run (options: ServeOptions, readyMs = 60_000): Promise<ServeProcess> {
    const serve = ServeProcess.spawn(options)
    try {
      await serve.waitFor((line) => line.msg === 'ready', readyMs)
    } catch (error) {
      await serve.stop()
      throw error
    }
    return serve
  }

  /** Spawns serve without waiting for it: the caller stops it (`stop`). */
  static spawn (options: ServeOptions): ServeProcess {
    const configPath = join(dirname(options.stateDir), `${Date.now()}-${Math.random().toString(36).slice(2)}.toml`)
    mkdirSync(dirname(configPath), { recursive: true })
    // No library given: none at all, not the default one in $HOME, which a test must never write to.
    const noLibrary = options.libraries.length === 0 ? { 'library.folders': [] } : {}
    writeFileSync(configPath, configText({ ...TEST_SETTINGS, ...noLibrary, ...options.settings }))
    const ports = options.ports ?? { http: 0, tracker: 0, peer: 0 }
    const service = options.asService === true ? serviceProcess() : { nodeFlags: [], env: {} }
    const args = [...service.nodeFlags, options.cli ?? cliPath, 'serve', '--config', configPath, '--state-dir', options.stateDir,
      '--http-port', String(ports.http), '--tracker-port', String(ports.tracker), '--peer-port', String(ports.peer),
      '--announce-host', '127.0.0.1', ...options.libraries.flatMap((library) => ['--library', library]), ...(options.extraArgs ?? [])]
    const [file, ...argv] = options.wrap?.([process.execPath, ...args]) ?? [process.execPath, ...args]
    const env = { ...service.env, ...options.env }
    const spawnedAt = performance.now()
    const child = spawnTracked(file!, argv, Object.keys(env).length === 0 ? {} : { env: { ...process.env, ...env } })
    return new ServeProcess(child, configPath, spawnedAt)
  }

  /** Replaces the config file with the test defaults plus `settings`. */
  writeConfig (settings: Readonly<Record<string, unknown>>): void {
    writeFileSync(this.configPath, configText({ ...TEST_SETTINGS, ...settings }))
  }

  /** Every log line so far. */
  get lines (): LogLine[] {
    return this.log.values
  }

  get ready (): LogLine {
    return this.lines.find((line) => line.msg === 'ready')!
  }

  /** Milliseconds from spawn to `msg=ready`. */
  get readyMs (): number {
    return this.log.entries.find((entry) => entry.value.msg === 'ready')!.at - this.spawnedAt
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

  /** The ports it listens on, to start it again on the same ones (its torrents name them). */
  get ports (): ServePorts {
    return { http: this.httpPort, tracker: this.trackerPort, peer: this.peerPort }
  }

  get running (): boolean {
    return !this.exited
  }

  get pid (): number {
    return this.child.pid!
  }

  get announceUrl (): string {
    return `http://127.0.0.1:${this.trackerPort}/announce`
  }

  /** Resolves with the first log line (already seen or coming) that matches. */
  async waitFor (match: (line: LogLine) => boolean, timeoutMs = 60_000): Promise<LogLine> {
    const lines = await this.waitForCount(match, 1, timeoutMs)
    return lines[0]!
  }

  /** Resolves once `count` log lines match, with those lines. */
  async waitForCount (match: (line: LogLine) => boolean, count: number, timeoutMs = 60_000): Promise<LogLine[]> {
    return (await this.waitForTimed(match, count, timeoutMs)).map((entry) => entry.value)
  }

  /** `waitForCount`, each line with the time it arrived. */
  async waitForTimed (match: (line: LogLine) => boolean, count: number, timeoutMs = 60_000): Promise<Array<Timed<LogLine>>> {
    return await this.log.waitForCount(match, count, timeoutMs, `${count} matching lines of evertorrent serve's log`)
  }

  /** SIGTERM, then SIGKILL after 10 s; resolves with the exit code. */
  async stop (): Promise<number | null> {
    return (await stopChild(this.child, 10_000)).code
  }

  describe (): string {
    const log = this.lines.slice(-20).map((line) => JSON.stringify(line)).join('\n')
    return `${log}\nstderr: ${this.stderr.join('').slice(-2000)}`
  }
}
