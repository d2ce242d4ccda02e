/**
 * The seeders bench-serve compares, each as a child process it can time and read in /proc:
 * `evertorrent serve`, transmission-daemon, and a torrent-stream script; and aria2c, the downloader.
 * All of them listen and connect on loopback only, with DHT, LPD, PEX and port mapping off. They are
 * the tests' drivers (test/helpers, test/interop/clients), with what the benchmark measures on top.
 */
import type { ChildProcess } from 'node:child_process'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { spawnTracked, stopChild, type Exit } from '../test/helpers/child-process.js'
import { LineLog } from '../test/helpers/line-log.js'
import { ServeProcess, type LogLine, type ServePorts } from '../test/helpers/serve-process.js'
import { startAria2 } from '../test/interop/clients/aria2.js'
import type { ClientProcess } from '../test/interop/clients/client-process.js'
import { freePort } from '../test/interop/clients/free-port.js'
import { pollUntil } from '../test/interop/clients/poll-until.js'
import { TransmissionDaemon } from '../test/interop/clients/transmission.js'

// ---------------------------------------------------------------- evertorrent serve

export interface BenchServeOptions {
  readonly cli: string
  readonly libraries: readonly string[]
  readonly stateDir: string
  /** `seeder.max_requests_per_peer`; default: the service's own. */
  readonly maxRequests?: number
  /** Default: 0 for each, any free port. */
  readonly ports?: ServePorts
}

/** `evertorrent serve` as the systemd unit runs it, on loopback with LSD off; resolves once it is ready. */
export async function startServe (options: BenchServeOptions): Promise<ServeProcess> {
  return await ServeProcess.run({
    cli: options.cli,
    libraries: options.libraries,
    stateDir: options.stateDir,
    asService: true,
    ...(options.maxRequests !== undefined && { settings: { 'seeder.max_requests_per_peer': options.maxRequests } }),
    ...(options.ports !== undefined && { ports: options.ports })
  })
}

/** The first `count` `msg=published` lines, each with its time from spawn in ms. */
export async function publishedLines (serve: ServeProcess, count: number, timeoutMs: number): Promise<Array<{ ms: number, line: LogLine }>> {
  const found = await serve.waitForTimed((line) => line.msg === 'published', count, timeoutMs)
  return found.map((entry) => ({ ms: entry.at - serve.spawnedAt, line: entry.value }))
}

/** Warnings and errors logged so far. */
export function problemsOf (serve: ServeProcess): LogLine[] {
  return serve.lines.filter((line) => line.level === 'warn' || line.level === 'error')
}

// ---------------------------------------------------------------- transmission-daemon

/** Adds a torrent whose data is in `downloadDir`; resolves once transmission has verified it and seeds it, with the ms that took. */
export async function addAndVerify (transmission: TransmissionDaemon, torrentPath: string, downloadDir: string, timeoutMs: number): Promise<number> {
  const started = performance.now()
  const id = await transmission.add({ kind: 'torrent', path: torrentPath }, downloadDir)
  await pollUntil('transmission to verify the torrent and seed it', transmission.process, Date.now() + timeoutMs, async () => {
    const status = await transmission.status(id)
    return status.status === SEEDING && status.percentDone === 1 ? { done: true, value: undefined } : { done: false, status: JSON.stringify(status) }
  }, 50)
  return performance.now() - started
}

const SEEDING = 6

/** transmission-daemon as a seeder, with its own config folder. */
export async function startTransmission (configDir: string, downloadDir: string): Promise<TransmissionDaemon> {
  await mkdir(configDir, { recursive: true })
  return await TransmissionDaemon.start({ configDir, downloadDir, deadline: Date.now() + 30_000, logLevel: 'error' })
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
  private readonly stderr: string[] = []
  private readonly log: LineLog<TorrentStreamEvent>

  private constructor (readonly child: ChildProcess, readonly spawnedAt: number, readonly port: number) {
    this.log = new LineLog(child.stdout!, parseEvent, () => `${this.log.values.slice(-10).map((event) => JSON.stringify(event)).join('\n')}\nstderr: ${this.stderr.join('').slice(-2000)}`)
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr.push(chunk)
      if (this.stderr.length > 200) this.stderr.shift()
    })
  }

  /** Spawns the seed; resolves at once (see `ready`). */
  static async start (options: TorrentStreamOptions): Promise<TorrentStreamSeeder> {
    const list = join(options.workDir, `torrent-stream-${Date.now()}.json`)
    await writeFile(list, JSON.stringify(options.torrents))
    const port = await freePort()
    const args = [TORRENT_STREAM_SEED, '--module', options.module, '--port', String(port), '--list', list,
      ...(options.announceUrl !== undefined ? ['--announce', options.announceUrl] : []), ...(options.verify ? [] : ['--no-verify'])]
    const spawnedAt = performance.now()
    return new TorrentStreamSeeder(spawnTracked(process.execPath, args), spawnedAt, port)
  }

  get pid (): number {
    return this.child.pid!
  }

  /** Ms from spawn until every torrent is verified (or loaded, without verification) and seeding. */
  async ready (timeoutMs: number): Promise<number> {
    const entry = await this.log.waitFor((event) => event.event === 'ready' || event.event === 'error', timeoutMs, 'torrent-stream: ready')
    if (entry.value.event === 'error') throw new Error(`torrent-stream: ${entry.value.message ?? 'error'}`)
    return entry.at - this.spawnedAt
  }

  errors (): string[] {
    return this.log.values.filter((event) => event.event === 'error').map((event) => event.message ?? '')
  }

  async stop (): Promise<Exit> {
    return await stopChild(this.child, 5000)
  }
}

function parseEvent (line: string): TorrentStreamEvent | undefined {
  try {
    return JSON.parse(line) as TorrentStreamEvent
  } catch {
    return undefined
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
  readonly child: ClientProcess
  readonly spawnedAt: number
  readonly exit: Promise<Exit & { at: number }>
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

/** aria2c downloading the given .torrent files at once (each line of its input file is one download), stopped after `timeoutMs`. */
export async function downloadWithAria2 (options: Aria2Options): Promise<Aria2Run> {
  await mkdir(options.dir, { recursive: true })
  const input = join(options.dir, '.aria2-input')
  await writeFile(input, options.torrents.map((torrent) => `${torrent}\n`).join(''))
  const spawnedAt = performance.now()
  const child = await startAria2({
    dir: options.dir,
    address: options.address,
    args: [`--input-file=${input}`, `--max-concurrent-downloads=${options.torrents.length}`, '--bt-stop-timeout=60']
  })
  const timer = setTimeout(() => { void child.stop(2000) }, options.timeoutMs)
  const exit = child.exited.then((result) => {
    clearTimeout(timer)
    return { ...result, at: performance.now() }
  })
  return { child, spawnedAt, exit }
}
