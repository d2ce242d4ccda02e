/**
 * The seeders bench-serve compares, each as a child process it can time and read in /proc:
 * `evertorrent serve`, transmission-daemon, and a torrent-stream script; and aria2c, the downloader.
 * All of them listen and connect on loopback only, with DHT, LPD, PEX and port mapping off.
 */
import type { ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { exitOf, spawnTracked, stopChild, type Exit } from './bench-serve-processes.js'
import { freePort } from './bench-serve-probes.js'

/** Collects a child's output lines with the time each arrived (performance.now()). */
class LineLog<T> {
  readonly entries: Array<{ readonly at: number, readonly value: T }> = []
  readonly stderr: string[] = []
  private readonly waiters = new Set<() => void>()
  private exited = false

  constructor (readonly child: ChildProcess, parse: (line: string) => T | undefined) {
    let pending = ''
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      const at = performance.now()
      pending += chunk
      const lines = pending.split('\n')
      pending = lines.pop()!
      for (const line of lines) {
        const value = parse(line)
        if (value !== undefined) this.entries.push({ at, value })
      }
      this.wake()
    })
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr.push(chunk)
      if (this.stderr.length > 200) this.stderr.shift()
    })
    child.once('exit', () => {
      this.exited = true
      this.wake()
    })
  }

  /** The first `count` entries that match, once there are that many. */
  async waitForCount (match: (value: T) => boolean, count: number, timeoutMs: number, what: string): Promise<Array<{ at: number, value: T }>> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const found = this.entries.filter((entry) => match(entry.value))
      if (found.length >= count) return found.slice(0, count)
      if (this.exited) throw new Error(`the process exited while waiting for ${what} (${found.length} of ${count}):\n${this.tail()}`)
      const remaining = deadline - Date.now()
      if (remaining <= 0) throw new Error(`timed out waiting for ${what} (${found.length} of ${count}):\n${this.tail()}`)
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

  tail (): string {
    const lines = this.entries.slice(-10).map((entry) => JSON.stringify(entry.value))
    return `${lines.join('\n')}\nstderr: ${this.stderr.join('').slice(-2000)}`
  }

  private wake (): void {
    for (const wake of this.waiters) wake()
  }
}

// ---------------------------------------------------------------- evertorrent serve

export interface LogLine {
  readonly level: string
  readonly msg: string
  readonly [field: string]: string
}

/** One logfmt line as `evertorrent serve` writes it. */
function parseLogLine (line: string): LogLine | undefined {
  const fields: Record<string, string> = {}
  for (const match of line.matchAll(/(\w+)=("(?:[^"\\]|\\.)*"|\S+)/g)) {
    fields[match[1]!] = match[2]!.startsWith('"') ? JSON.parse(match[2]!) as string : match[2]!
  }
  return fields.level !== undefined && fields.msg !== undefined ? fields as unknown as LogLine : undefined
}

export interface ServeOptions {
  readonly cli: string
  readonly libraries: readonly string[]
  readonly stateDir: string
  /** Extra lines of the config file's [seeder] table, where LSD is always off so no multicast leaves loopback. */
  readonly seederConfig?: string
  /** Default: 0 for each, any free port. */
  readonly ports?: ServePorts
}

export interface ServePorts {
  readonly http: number
  readonly tracker: number
  readonly peer: number
}

const SERVICE_UNIT = fileURLToPath(new URL('../../config/evertorrent.service', import.meta.url))

/**
 * The node flags of the shipped systemd unit's ExecStart and its Environment= (V8 heap sizing, malloc
 * arenas), so the benchmark measures the process as it runs on the box.
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

/** `evertorrent serve` on loopback with free ports and the service's node flags, started by `start` and timed from its spawn. */
export class ServeSeeder {
  private constructor (readonly child: ChildProcess, readonly spawnedAt: number, private readonly log: LineLog<LogLine>) {}

  static async start (options: ServeOptions): Promise<ServeSeeder> {
    const configPath = `${options.stateDir}.toml`
    await writeFile(configPath, `[seeder]\nlocal_discovery = false\n${options.seederConfig ?? ''}`)
    const args = [options.cli, 'serve', '--config', configPath, '--state-dir', options.stateDir,
      '--http-port', String(options.ports?.http ?? 0), '--tracker-port', String(options.ports?.tracker ?? 0), '--peer-port', String(options.ports?.peer ?? 0),
      '--announce-host', '127.0.0.1',
      ...options.libraries.flatMap((library) => ['--library', library])]
    const spawnedAt = performance.now()
    const service = serviceProcess()
    const child = spawnTracked(process.execPath, [...service.nodeFlags, ...args], { env: { ...process.env, ...service.env } })
    const serve = new ServeSeeder(child, spawnedAt, new LineLog(child, parseLogLine))
    await serve.waitForCount((line) => line.msg === 'ready', 1, 60_000, 'msg=ready')
    return serve
  }

  get pid (): number {
    return this.child.pid!
  }

  /** Milliseconds from spawn to `msg=ready`. */
  get readyMs (): number {
    return this.log.entries.find((entry) => entry.value.msg === 'ready')!.at - this.spawnedAt
  }

  private get ready (): LogLine {
    return this.log.entries.find((entry) => entry.value.msg === 'ready')!.value
  }

  get trackerPort (): number {
    return Number(this.ready.tracker_port)
  }

  /** The ports it listens on, to start it again on the same ones (its torrents name them). */
  get ports (): ServePorts {
    return { http: Number(this.ready.http_port), tracker: this.trackerPort, peer: this.peerPort }
  }

  get peerPort (): number {
    return Number(this.ready.peer_port)
  }

  get announceUrl (): string {
    return `http://127.0.0.1:${this.trackerPort}/announce`
  }

  /** Resolves with the first `count` `msg=published` lines, each with its time from spawn in ms. */
  async published (count: number, timeoutMs: number): Promise<Array<{ ms: number, line: LogLine }>> {
    const found = await this.waitForCount((line) => line.msg === 'published', count, timeoutMs, `${count} msg=published lines`)
    return found.map((entry) => ({ ms: entry.at - this.spawnedAt, line: entry.value }))
  }

  /** Warnings and errors logged so far. */
  problems (): LogLine[] {
    return this.log.entries.map((entry) => entry.value).filter((line) => line.level === 'warn' || line.level === 'error')
  }

  async waitForCount (match: (line: LogLine) => boolean, count: number, timeoutMs: number, what: string): Promise<Array<{ at: number, value: LogLine }>> {
    return await this.log.waitForCount(match, count, timeoutMs, `evertorrent serve: ${what}`)
  }

  async stop (): Promise<Exit> {
    return await stopChild(this.child)
  }
}

// ---------------------------------------------------------------- transmission-daemon

/** transmission-daemon 3.00 as a seeder, with its own config folder, driven over its JSON-RPC. */
export class TransmissionSeeder {
  private sessionId = ''

  private constructor (readonly child: ChildProcess, readonly peerPort: number, private readonly rpcUrl: string, private readonly log: LineLog<string>) {}

  static async start (configDir: string): Promise<TransmissionSeeder> {
    await mkdir(configDir, { recursive: true })
    const rpcPort = await freePort()
    const peerPort = await freePort()
    await writeFile(join(configDir, 'settings.json'), JSON.stringify(transmissionSettings(configDir, rpcPort, peerPort), null, 2))
    const child = spawnTracked('transmission-daemon', ['--foreground', '--config-dir', configDir, '--no-dht', '--no-lpd', '--no-portmap', '--log-error'])
    const seeder = new TransmissionSeeder(child, peerPort, `http://127.0.0.1:${rpcPort}/transmission/rpc`, new LineLog(child, (line) => line))
    const deadline = Date.now() + 30_000
    for (;;) {
      try {
        await seeder.call('session-get', {})
        return seeder
      } catch (error) {
        if (child.exitCode !== null || Date.now() > deadline) throw new Error(`transmission-daemon did not answer on its RPC port: ${String(error)}\n${seeder.log.tail()}`)
        await sleep(50)
      }
    }
  }

  get pid (): number {
    return this.child.pid!
  }

  /** Adds a torrent whose data is in `downloadDir`; resolves once transmission has verified it and seeds it, with the ms that took. */
  async addAndVerify (torrentPath: string, downloadDir: string, timeoutMs: number): Promise<number> {
    const started = performance.now()
    const added = await this.call('torrent-add', { metainfo: (await readFile(torrentPath)).toString('base64'), 'download-dir': downloadDir, paused: false })
    const id = ((added['torrent-added'] ?? added['torrent-duplicate']) as { id: number }).id
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const { torrents } = await this.call('torrent-get', { ids: [id], fields: ['status', 'percentDone', 'error', 'errorString'] }) as { torrents: Array<{ status: number, percentDone: number, error: number, errorString: string }> }
      const torrent = torrents[0]
      if (torrent === undefined) throw new Error(`transmission lost torrent ${id}`)
      if (torrent.error !== 0) throw new Error(`transmission: ${torrent.errorString}`)
      if (torrent.status === SEEDING && torrent.percentDone === 1) return performance.now() - started
      if (Date.now() > deadline) throw new Error(`transmission did not verify the torrent in ${timeoutMs} ms: ${JSON.stringify(torrent)}`)
      await sleep(50)
    }
  }

  async stop (): Promise<Exit> {
    return await stopChild(this.child)
  }

  /** Transmission's JSON-RPC: the first call is answered 409 with the session id every later call must carry. */
  private async call (method: string, args: Record<string, unknown>): Promise<Record<string, unknown>> {
    for (let attempt = 0; attempt < 2; attempt++) {
      const response = await fetch(this.rpcUrl, {
        method: 'POST',
        headers: { 'X-Transmission-Session-Id': this.sessionId, 'Content-Type': 'application/json' },
        body: JSON.stringify({ method, arguments: args }),
        signal: AbortSignal.timeout(5000)
      })
      if (response.status === 409) {
        this.sessionId = response.headers.get('X-Transmission-Session-Id') ?? ''
        continue
      }
      if (!response.ok) throw new Error(`${method}: HTTP ${response.status}`)
      const body = await response.json() as { result: string, arguments: Record<string, unknown> }
      if (body.result !== 'success') throw new Error(`${method}: ${body.result}`)
      return body.arguments
    }
    throw new Error(`${method}: no session id accepted`)
  }
}

const SEEDING = 6

/** Loopback only; no DHT, LPD, PEX, uTP or port mapping; no limits or queues; the rest as shipped. */
function transmissionSettings (downloadDir: string, rpcPort: number, peerPort: number): Record<string, unknown> {
  return {
    'dht-enabled': false,
    'lpd-enabled': false,
    'pex-enabled': false,
    'utp-enabled': false,
    'port-forwarding-enabled': false,
    'bind-address-ipv4': '127.0.0.1',
    'bind-address-ipv6': '::1',
    'peer-port': peerPort,
    'peer-port-random-on-start': false,
    'rpc-enabled': true,
    'rpc-bind-address': '127.0.0.1',
    'rpc-port': rpcPort,
    'rpc-authentication-required': false,
    'rpc-whitelist-enabled': true,
    'rpc-whitelist': '127.0.0.1',
    'rpc-host-whitelist-enabled': false,
    'download-dir': downloadDir,
    'incomplete-dir-enabled': false,
    'start-added-torrents': true,
    'download-queue-enabled': false,
    'seed-queue-enabled': false,
    'queue-stalled-enabled': false,
    'blocklist-enabled': false,
    'watch-dir-enabled': false,
    'ratio-limit-enabled': false,
    'idle-seeding-limit-enabled': false,
    'speed-limit-down-enabled': false,
    'speed-limit-up-enabled': false,
    'alt-speed-enabled': false,
    'script-torrent-done-enabled': false
  }
}

// ---------------------------------------------------------------- torrent-stream

const TORRENT_STREAM_SEED = fileURLToPath(new URL('./bench-torrent-stream-seed.js', import.meta.url))

interface TorrentStreamEvent {
  readonly event: 'loaded' | 'ready' | 'error'
  readonly message?: string
}

export interface TorrentStreamOptions {
  /** The torrent-stream package folder. */
  readonly module: string
  readonly torrents: ReadonlyArray<{ readonly torrent: string, readonly dir: string }>
  /** Where the list file goes. */
  readonly workDir: string
  /** The tracker every torrent announces to; none if undefined. */
  readonly announceUrl?: string
  readonly verify: boolean
}

/** bench-torrent-stream-seed.js: torrent-stream engines for the given torrents on one port. */
export class TorrentStreamSeeder {
  private constructor (readonly child: ChildProcess, readonly spawnedAt: number, readonly port: number, private readonly log: LineLog<TorrentStreamEvent>) {}

  /** Spawns the seed; resolves at once (see `ready`). */
  static async start (options: TorrentStreamOptions): Promise<TorrentStreamSeeder> {
    const list = join(options.workDir, `torrent-stream-${Date.now()}.json`)
    await writeFile(list, JSON.stringify(options.torrents))
    const port = await freePort()
    const args = [TORRENT_STREAM_SEED, '--module', options.module, '--port', String(port), '--list', list,
      ...(options.announceUrl !== undefined ? ['--announce', options.announceUrl] : []), ...(options.verify ? [] : ['--no-verify'])]
    const spawnedAt = performance.now()
    const child = spawnTracked(process.execPath, args)
    const log = new LineLog<TorrentStreamEvent>(child, (line) => {
      try {
        return JSON.parse(line) as TorrentStreamEvent
      } catch {
        return undefined
      }
    })
    return new TorrentStreamSeeder(child, spawnedAt, port, log)
  }

  get pid (): number {
    return this.child.pid!
  }

  /** Ms from spawn until every torrent is verified (or loaded, without verification) and seeding. */
  async ready (timeoutMs: number): Promise<number> {
    const [entry] = await this.log.waitForCount((event) => event.event === 'ready' || event.event === 'error', 1, timeoutMs, 'torrent-stream: ready')
    if (entry!.value.event === 'error') throw new Error(`torrent-stream: ${entry!.value.message ?? 'error'}`)
    return entry!.at - this.spawnedAt
  }

  errors (): string[] {
    return this.log.entries.filter((entry) => entry.value.event === 'error').map((entry) => entry.value.message ?? '')
  }

  async stop (): Promise<Exit> {
    return await stopChild(this.child, 5000)
  }
}

// ---------------------------------------------------------------- aria2c

export interface Aria2Options {
  readonly torrents: readonly string[]
  /** The loopback address its sockets are bound to, one per aria2c (see `nextLoopbackAddress`). */
  readonly address: string
  readonly dir: string
  readonly timeoutMs: number
}

export interface Aria2Run {
  readonly child: ChildProcess
  readonly spawnedAt: number
  readonly exit: Promise<Exit & { at: number }>
  output (): string
}

let lastLoopbackHost = 1

/**
 * 127.0.0.2, 127.0.0.3, …: every aria2c comes from an address of its own, like peers on a network.
 * transmission-daemon 3.00 never answers a second client from the address of one that completed
 * (aria2c's MSE and plain handshakes both go unanswered), which stalls every download after the first.
 */
export function nextLoopbackAddress (): string {
  lastLoopbackHost = lastLoopbackHost >= 254 ? 2 : lastLoopbackHost + 1
  return `127.0.0.${lastLoopbackHost}`
}

/**
 * aria2c downloading the given .torrent files at once (each line of its input file is one download)
 * and exiting when all are complete (`--seed-time=0`). Every socket is bound to `address`.
 */
export async function startAria2 (options: Aria2Options): Promise<Aria2Run> {
  await mkdir(options.dir, { recursive: true })
  const input = join(options.dir, '.aria2-input')
  await writeFile(input, options.torrents.map((torrent) => `${torrent}\n`).join(''))
  const args = [
    '--no-conf=true',
    `--dir=${options.dir}`,
    `--input-file=${input}`,
    `--max-concurrent-downloads=${options.torrents.length}`,
    '--enable-dht=false',
    '--enable-dht6=false',
    '--bt-enable-lpd=false',
    '--enable-peer-exchange=false',
    '--seed-time=0',
    `--listen-port=${await freePort()}`,
    `--interface=${options.address}`,
    '--disable-ipv6=true',
    `--stop-with-process=${process.pid}`,
    '--bt-stop-timeout=60',
    '--bt-save-metadata=false',
    '--file-allocation=none',
    '--auto-file-renaming=false',
    '--allow-overwrite=true',
    '--summary-interval=0',
    '--show-console-readout=false',
    '--enable-color=false',
    '--console-log-level=warn'
  ]
  const spawnedAt = performance.now()
  const child = spawnTracked('aria2c', args)
  let output = ''
  child.stdout!.setEncoding('utf8').on('data', (text: string) => { output = (output + text).slice(-4000) })
  child.stderr!.setEncoding('utf8').on('data', (text: string) => { output = (output + text).slice(-4000) })
  const timer = setTimeout(() => { void stopChild(child, 2000) }, options.timeoutMs)
  const exit = exitOf(child).then((result) => {
    clearTimeout(timer)
    return { ...result, at: performance.now() }
  })
  return { child, spawnedAt, exit, output: () => output }
}

async function sleep (ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms))
}
