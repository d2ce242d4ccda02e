/**
 * `node dist/scripts/bench-tracker.js`: evertorrent's tracker (`evertorrent serve` as its systemd unit
 * runs it, "open" mode) against Debian's opentracker, on loopback, in one run: each round runs every
 * measure on both, the order swapped from one round to the next, each on a freshly started tracker.
 *
 * - udp: BEP 15 announces at 10,000/s and 20,000/s offered, from bench-tracker-udp-load.js processes
 *   (2 of them, 16 source addresses each, connected once per address); answered/s, loss, and the
 *   tracker's CPU seconds (utime + stime, /proc/PID/stat) per 1,000 answered announces.
 * - http: wrk with bench-tracker.lua, keep-alive announces of varying infohash, peer id and port;
 *   requests/s, latency p50/p99/max, errors, RSS before and peak during. Then, on the same tracker,
 *   the steady state: bench-tracker-http-load.js processes (as many connections as wrk) open every
 *   connection and have it answered once before measuring, so that the latencies leave out how fast
 *   the tracker takes a burst of new connections, which wrk counts in (see bench-tracker-http-load.ts);
 *   requests/s and latency p50/p99/max, with wrk's coordinated-omission correction applied.
 * - memory: 100,000 peers announced over 1,000 swarms (UDP, each resent until answered), then RSS
 *   added; then, on a fresh tracker, one swarm fed 60,000 peers: how many it holds (UDP scrape) and
 *   how many a numwant=200 announce gets.
 *
 * The load population (1,000 swarms × 16 peers) fits evertorrent's default `tracker.max_peers`, so both
 * trackers hold the same peers; the memory measures raise it (MEMORY_SETTINGS). Prints the figures,
 * medians over rounds and the ratio evertorrent / opentracker; asserts nothing.
 *
 * With `--before PATH` (another build's cli.js), that build runs every measure in every round too.
 *
 * Usage: node dist/scripts/bench-tracker.js [--rounds N] [--quick] [--only udp,http,memory] [--before PATH]
 */
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { availableParallelism, cpus, loadavg } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { killAllChildren, spawnTracked, stopChild } from '../test/helpers/child-process.js'
import { LineLog } from '../test/helpers/line-log.js'
import { cpuSecondsOf, memoryOf, resetPeak } from '../test/helpers/proc.js'
import { sourcePath } from '../test/helpers/repo.js'
import { makeTempDir, removeTempDir } from '../test/helpers/temp-dir.js'
import { cpuPerThousand, lossPercent, median, parseWrkOutput, ratioText, udpDrops, wrkErrors, type WrkFigures } from './bench-tracker-figures.js'
import { swarmHashes, writePeerId, type Population } from './bench-tracker-population.js'
import { EVERTORRENT_SETTINGS, requireOpentracker, startEvertorrent, startOpentracker, type RunningTracker } from './bench-tracker-trackers.js'
import { UdpTrackerClient } from './bench-tracker-udp-client.js'
import type { HttpLoadConfig, HttpLoadResult } from './bench-tracker-http-load.js'
import { LatencyHistogram } from './bench-tracker-latency.js'
import type { LoadConfig, LoadResult } from './bench-tracker-udp-load.js'

const USAGE = `Usage: node dist/scripts/bench-tracker.js [options]

Options:
  --rounds N      rounds, each running every measure on both trackers (default: 3; --quick: 1)
  --quick         1 round, UDP loads of 4 s, HTTP loads of 5 s
  --only LIST     measures to run, of udp,http,memory (default: all)
  --before PATH   another build's cli.js (e.g. the code before a change), measured in every round too
  -h, --help      this help`

const MEASURES = ['udp', 'http', 'memory'] as const
type Measure = typeof MEASURES[number]
/** `before`: another build of evertorrent (`--before`), e.g. the code before a change. */
type TrackerName = 'evertorrent' | 'before' | 'opentracker'

const LOAD_POPULATION: Population = { peers: 16_000, swarms: 1000 }
const MEMORY_POPULATION: Population = { peers: 100_000, swarms: 1000 }
const ONE_SWARM_PEERS = 60_000
const UDP_RATES = [10_000, 20_000]
const NUMWANT = 50
const GENERATORS = 2
const SOURCES_PER_GENERATOR = 16
const WRK_THREADS = 2
const WRK_CONNECTIONS = 100
/** Enough for the memory measures' 100,000 and 60,000 peers; the per-swarm cap stays the service's default. */
const MEMORY_SETTINGS = { 'tracker.max_peers': 200_000 }
const WRK = '/usr/bin/wrk'
const UDP_LOAD = fileURLToPath(new URL('./bench-tracker-udp-load.js', import.meta.url))
const HTTP_LOAD = fileURLToPath(new URL('./bench-tracker-http-load.js', import.meta.url))
const LUA = sourcePath('scripts/bench-tracker.lua')
const MB = 1e6

interface Plan {
  readonly rounds: number
  /** The trackers of each round, in the first round's order. */
  readonly trackers: readonly TrackerName[]
  /** `--before`: the other build's cli.js. */
  readonly beforeCli?: string
  readonly measures: ReadonlySet<Measure>
  readonly udpSeconds: number
  readonly httpSeconds: number
}

interface Files {
  readonly root: string
  /** The load's and the 100,000 peers' swarms, hex, one a line. */
  readonly loadHashes: string
  readonly oneSwarmHash: string
  /** The swarm of the announce that checks a tracker takes announces, outside every measure's swarms. */
  readonly checkHash: Buffer
  readonly hashes: Buffer[]
}

interface UdpFigures {
  readonly offered: number
  readonly sentPerSecond: number
  readonly answeredPerSecond: number
  readonly lossPercent: number
  readonly cpuPerThousand: number
  readonly trackerDrops: number
  readonly generatorDrops: number
  readonly generatorCpuSeconds: number
  /** Announces the generators skipped, being late (a loaded machine). */
  readonly skipped: number
  readonly errors: number
  readonly firstError?: string
}

interface HttpFigures {
  readonly wrk: WrkFigures
  readonly requestsPerSecond: number
  readonly errors: number
  readonly cpuPerThousand: number
  readonly rssBefore: number
  readonly rssPeak: number
  readonly steady: SteadyHttpFigures
}

/** bench-tracker-http-load's measure: every connection open and answered once before it starts. */
interface SteadyHttpFigures {
  readonly requestsPerSecond: number
  readonly failures: number
  readonly reconnects: number
  /** With wrk's coordinated-omission correction, as wrk's figures are. */
  readonly p50Us: number
  readonly p99Us: number
  readonly maxUs: number
  /** Without it. */
  readonly rawP99Us: number
}

interface MemoryFigures {
  readonly rssBefore: number
  readonly rssAfter: number
  readonly peakAfter: number
  /** Peers the scrapes of the 1,000 swarms count. */
  readonly held: number
  readonly gaveUp: number
  readonly oneSwarmHeld: number
  readonly oneSwarmReturned: number
}

function progress (message: string): void {
  process.stderr.write(`bench-tracker: ${message}\n`)
}

function parsePlan (): Plan | undefined {
  const { values } = parseArgs({ options: { rounds: { type: 'string' }, quick: { type: 'boolean' }, only: { type: 'string' }, before: { type: 'string' }, help: { type: 'boolean', short: 'h' } } })
  if (values.help === true) return undefined
  const quick = values.quick === true
  const rounds = Number(values.rounds ?? (quick ? 1 : 3))
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds: a whole number ≥ 1, not ${values.rounds}`)
  const only = (values.only ?? MEASURES.join(',')).split(',').map((name) => name.trim())
  const unknown = only.filter((name) => !(MEASURES as readonly string[]).includes(name))
  if (unknown.length > 0) throw new Error(`--only: unknown measure ${unknown.join(', ')} (known: ${MEASURES.join(', ')})`)
  if (values.before !== undefined && !existsSync(values.before)) throw new Error(`--before: no ${values.before}`)
  return {
    rounds,
    trackers: values.before !== undefined ? ['evertorrent', 'before', 'opentracker'] : ['evertorrent', 'opentracker'],
    ...(values.before !== undefined && { beforeCli: values.before }),
    measures: new Set(only as Measure[]),
    udpSeconds: quick ? 4 : 10,
    httpSeconds: quick ? 5 : 20
  }
}

function requireWrk (): void {
  if (spawnSync(WRK, ['--version']).error !== undefined) throw new Error(`${WRK} is missing: install Debian's wrk package (apt-get install wrk)`)
}

async function start (name: TrackerName, plan: Plan, files: Files, dir: string, settings: Readonly<Record<string, unknown>> = {}): Promise<RunningTracker> {
  const tracker = name === 'evertorrent'
    ? await startEvertorrent({ dir, settings })
    : name === 'before'
      ? await startEvertorrent({ dir, settings, cli: plan.beforeCli!, name })
      : await startOpentracker(dir, [...files.hashes, files.checkHash].map((hash) => hash.toString('hex')).concat(files.oneSwarmHash))
  try {
    await checkAnnounce(tracker, files.checkHash)
  } catch (error) {
    await tracker.stop()
    throw error
  }
  return tracker
}

/**
 * One UDP announce must get peers back before any load: opentracker reads its whitelist in a thread
 * of its own after it starts answering, and refuses every infohash until then.
 */
async function checkAnnounce (tracker: RunningTracker, infoHash: Buffer): Promise<void> {
  const client = await UdpTrackerClient.open({ source: '127.0.0.9', host: tracker.host, port: tracker.udpPort })
  try {
    const deadline = Date.now() + 10_000
    for (;;) {
      try {
        await client.announce(infoHash, writePeerId(Buffer.alloc(20), 999_999_999), 65_000, NUMWANT)
        return
      } catch (error) {
        if (Date.now() > deadline) throw new Error(`${tracker.name} refuses announces: ${(error as Error).message}`)
        await sleep(100)
      }
    }
  } finally {
    client.close()
  }
}

async function sleep (ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms))
}

interface Generator {
  readonly child: ReturnType<typeof spawnTracked>
  readonly lines: LineLog<Record<string, unknown>>
}

function parseJson (line: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(line) as Record<string, unknown>
  } catch {
    return undefined
  }
}

/** Runs the generators against `tracker` (connected first, then started together); their results. */
async function runGenerators (tracker: RunningTracker, base: Omit<LoadConfig, 'tracker' | 'sources' | 'slice' | 'slices'>, timeoutMs: number, during: () => void): Promise<LoadResult[]> {
  const generators: Generator[] = []
  try {
    for (let slice = 0; slice < GENERATORS; slice++) {
      const config: LoadConfig = {
        ...base,
        tracker: { host: tracker.host, port: tracker.udpPort },
        sources: Array.from({ length: SOURCES_PER_GENERATOR }, (_, index) => `127.0.${10 + slice}.${1 + index}`),
        slice,
        slices: GENERATORS
      }
      const child = spawnTracked(process.execPath, [UDP_LOAD, JSON.stringify(config)], { stdio: ['pipe', 'pipe', 'pipe'] })
      let stderr = ''
      child.stderr!.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
      generators.push({ child, lines: new LineLog(child.stdout!, parseJson, () => `load generator: ${stderr}`) })
    }
    await Promise.all(generators.map(async ({ lines }) => await lines.waitFor((line) => line.ready === true, 30_000, 'load generator connected')))
    during()
    for (const { child } of generators) child.stdin!.write('go\n')
    return await Promise.all(generators.map(async ({ lines }) => (await lines.waitFor((line) => 'sent' in line, timeoutMs, 'load generator result')).value as unknown as LoadResult))
  } finally {
    await Promise.all(generators.map(async ({ child }) => await stopChild(child, 2000)))
  }
}

async function measureUdp (tracker: RunningTracker, files: Files, rate: number, seconds: number): Promise<UdpFigures> {
  const trackerSocket = (address: string, port: number): boolean => address === tracker.host && port === tracker.udpPort
  let cpuBefore = 0
  let dropsBefore = 0
  const results = await runGenerators(tracker, {
    hashesFile: files.loadHashes, population: LOAD_POPULATION, mode: 'rate', rate: rate / GENERATORS, seconds, numwant: NUMWANT
  }, (seconds + 30) * 1000, () => {
    cpuBefore = cpuSecondsOf(tracker.pid)
    dropsBefore = udpDrops(readFileSync('/proc/net/udp', 'utf8'), trackerSocket)
  })
  const cpu = cpuSecondsOf(tracker.pid) - cpuBefore
  const sum = (pick: (result: LoadResult) => number): number => results.reduce((total, result) => total + pick(result), 0)
  const sent = sum((result) => result.sent)
  const answered = sum((result) => result.answered)
  const elapsed = Math.max(...results.map((result) => result.seconds))
  const firstError = results.find((result) => result.firstError !== undefined)?.firstError
  return {
    offered: rate,
    sentPerSecond: sent / elapsed,
    answeredPerSecond: answered / elapsed,
    lossPercent: lossPercent(sent, answered),
    cpuPerThousand: cpuPerThousand(cpu, answered),
    trackerDrops: udpDrops(readFileSync('/proc/net/udp', 'utf8'), trackerSocket) - dropsBefore,
    generatorDrops: sum((result) => result.drops),
    generatorCpuSeconds: sum((result) => result.cpuSeconds),
    skipped: sum((result) => result.skipped),
    errors: sum((result) => result.errors),
    ...(firstError !== undefined && { firstError })
  }
}

async function measureHttp (tracker: RunningTracker, files: Files, seconds: number): Promise<HttpFigures> {
  const rssBefore = memoryOf(tracker.pid).rssBytes
  const peakReset = resetPeak(tracker.pid)
  let sampledPeak = rssBefore
  const sampler = setInterval(() => { sampledPeak = Math.max(sampledPeak, memoryOf(tracker.pid).rssBytes) }, 100)
  const cpuBefore = cpuSecondsOf(tracker.pid)
  const wrk = spawnTracked(WRK, [`-t${WRK_THREADS}`, `-c${WRK_CONNECTIONS}`, `-d${seconds}s`, '-s', LUA, `http://${tracker.host}:${tracker.httpPort}/`,
    '--', files.loadHashes, String(LOAD_POPULATION.peers), String(NUMWANT), String(WRK_THREADS)])
  let stdout = ''
  let stderr = ''
  wrk.stdout!.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk })
  wrk.stderr!.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
  const exit = await new Promise<number | null>((resolve) => wrk.once('exit', (code) => resolve(code)))
  clearInterval(sampler)
  const cpu = cpuSecondsOf(tracker.pid) - cpuBefore
  if (exit !== 0) throw new Error(`wrk exited with code ${exit}: ${stderr}${stdout}`)
  const figures = parseWrkOutput(stdout)
  const rssPeak = Math.max(sampledPeak, peakReset ? memoryOf(tracker.pid).peakBytes : 0)
  return {
    wrk: figures,
    requestsPerSecond: figures.requests / (figures.durationUs / 1e6),
    errors: wrkErrors(figures),
    cpuPerThousand: cpuPerThousand(cpu, figures.requests),
    rssBefore,
    rssPeak,
    steady: await measureSteadyHttp(tracker, files, seconds)
  }
}

/** The HTTP generators, `WRK_CONNECTIONS` connections between them, each answered once before they start together. */
async function measureSteadyHttp (tracker: RunningTracker, files: Files, seconds: number): Promise<SteadyHttpFigures> {
  const generators: Generator[] = []
  try {
    for (let slice = 0; slice < GENERATORS; slice++) {
      const config: HttpLoadConfig = {
        tracker: { host: tracker.host, port: tracker.httpPort },
        connections: WRK_CONNECTIONS / GENERATORS,
        hashesFile: files.loadHashes,
        population: LOAD_POPULATION,
        slice,
        slices: GENERATORS,
        seconds,
        numwant: NUMWANT
      }
      const child = spawnTracked(process.execPath, [HTTP_LOAD, JSON.stringify(config)], { stdio: ['pipe', 'pipe', 'pipe'] })
      let stderr = ''
      child.stderr!.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
      generators.push({ child, lines: new LineLog(child.stdout!, parseJson, () => `HTTP load generator: ${stderr}`) })
    }
    await Promise.all(generators.map(async ({ lines }) => await lines.waitFor((line) => line.ready === true, 40_000, 'HTTP load generator warmed up')))
    for (const { child } of generators) child.stdin!.write('go\n')
    const results = await Promise.all(generators.map(async ({ lines }) =>
      (await lines.waitFor((line) => 'requests' in line, (seconds + 30) * 1000, 'HTTP load generator result')).value as unknown as HttpLoadResult))
    const latency = new LatencyHistogram()
    for (const result of results) latency.merge(LatencyHistogram.fromJSON(result.latency))
    const requests = latency.count
    const elapsed = Math.max(...results.map((result) => result.seconds))
    // wrk's expected interval: the run's time over the requests one connection made.
    const corrected = latency.correctedForOmission(elapsed * 1e6 / (requests / WRK_CONNECTIONS))
    return {
      requestsPerSecond: requests / elapsed,
      failures: results.reduce((total, result) => total + result.failures, 0),
      reconnects: results.reduce((total, result) => total + result.reconnects, 0),
      p50Us: corrected.percentile(50),
      p99Us: corrected.percentile(99),
      maxUs: latency.max,
      rawP99Us: latency.percentile(99)
    }
  } finally {
    await Promise.all(generators.map(async ({ child }) => await stopChild(child, 2000)))
  }
}

async function measureMemory (name: TrackerName, plan: Plan, files: Files, dir: string): Promise<MemoryFigures> {
  const many = await start(name, plan, files, join(dir, 'many'), MEMORY_SETTINGS)
  let figures: Pick<MemoryFigures, 'rssBefore' | 'rssAfter' | 'peakAfter' | 'held' | 'gaveUp'>
  try {
    const rssBefore = memoryOf(many.pid).rssBytes
    const results = await runGenerators(many, { hashesFile: files.loadHashes, population: MEMORY_POPULATION, mode: 'all', rate: 0, seconds: 0, numwant: NUMWANT }, 600_000, () => {})
    await sleep(1000)
    const after = memoryOf(many.pid)
    figures = { rssBefore, rssAfter: after.rssBytes, peakAfter: after.peakBytes, held: await heldPeers(many, files.hashes), gaveUp: results.reduce((total, result) => total + result.gaveUp, 0) }
  } finally {
    await many.stop()
  }
  const one = await start(name, plan, files, join(dir, 'one'), MEMORY_SETTINGS)
  try {
    const oneHashFile = join(dir, 'one-swarm.txt')
    writeFileSync(oneHashFile, `${files.oneSwarmHash}\n`)
    await runGenerators(one, { hashesFile: oneHashFile, population: { peers: ONE_SWARM_PEERS, swarms: 1 }, mode: 'all', rate: 0, seconds: 0, numwant: NUMWANT }, 600_000, () => {})
    const hash = Buffer.from(files.oneSwarmHash, 'hex')
    const oneSwarmHeld = await heldPeers(one, [hash])
    const client = await UdpTrackerClient.open({ source: '127.0.0.9', host: one.host, port: one.udpPort })
    try {
      const answer = await client.announce(hash, writePeerId(Buffer.alloc(20), 999_999_998), 65_001, 200)
      return { ...figures, oneSwarmHeld, oneSwarmReturned: answer.peers }
    } finally {
      client.close()
    }
  } finally {
    await one.stop()
  }
}

/** Seeders plus leechers over the swarms, as UDP scrapes count them. */
async function heldPeers (tracker: RunningTracker, hashes: readonly Buffer[]): Promise<number> {
  const client = await UdpTrackerClient.open({ source: '127.0.0.9', host: tracker.host, port: tracker.udpPort })
  try {
    let held = 0
    for (const hash of hashes) {
      const counts = await client.scrape(hash)
      held += counts.seeders + counts.leechers
    }
    return held
  } finally {
    client.close()
  }
}

// ---------------------------------------------------------------- printing

const mb = (bytes: number): string => `${(bytes / MB).toFixed(1)} MB`
const int = (value: number): string => Math.round(value).toLocaleString('en-US')
const ms = (us: number): string => `${(us / 1000).toFixed(us < 10_000 ? 2 : 1)} ms`

function udpLine (name: string, figures: UdpFigures): string {
  return `${name}: sent ${int(figures.sentPerSecond)}/s (${int(figures.skipped)} skipped, the generators late), answered ${int(figures.answeredPerSecond)}/s, loss ${figures.lossPercent.toFixed(2)} % ` +
    `(tracker socket drops ${int(figures.trackerDrops)}, generator socket drops ${int(figures.generatorDrops)}), ` +
    `CPU ${figures.cpuPerThousand.toFixed(3)} s per 1,000, errors ${figures.errors}${figures.firstError !== undefined ? ` ("${figures.firstError}")` : ''}, generators' CPU ${figures.generatorCpuSeconds.toFixed(1)} s`
}

function httpLine (name: string, figures: HttpFigures): string {
  const w = figures.wrk
  return `${name}: ${int(figures.requestsPerSecond)} req/s, p50 ${ms(w.p50Us)}, p99 ${ms(w.p99Us)}, max ${ms(w.maxUs)}, errors ${figures.errors} ` +
    `(connect ${w.connectErrors}, write ${w.writeErrors}, timeout ${w.timeouts}, failed announces ${w.failures}), connections closed after an answer (wrk's read errors) ${w.readErrors}, ` +
    `CPU ${figures.cpuPerThousand.toFixed(3)} s per 1,000, RSS ${mb(figures.rssBefore)} → peak ${mb(figures.rssPeak)}; ` +
    `steady state ${int(figures.steady.requestsPerSecond)} req/s, p50 ${ms(figures.steady.p50Us)}, p99 ${ms(figures.steady.p99Us)} (uncorrected ${ms(figures.steady.rawP99Us)}), ` +
    `max ${ms(figures.steady.maxUs)}, failures ${figures.steady.failures}, connections opened ${figures.steady.reconnects}`
}

function memoryLine (name: string, figures: MemoryFigures): string {
  return `${name}: RSS ${mb(figures.rssBefore)} → ${mb(figures.rssAfter)} (+${mb(figures.rssAfter - figures.rssBefore)}), peak ${mb(figures.peakAfter)}, ` +
    `held ${int(figures.held)} of ${int(MEMORY_POPULATION.peers)} (${figures.gaveUp} never answered); one swarm holds ${int(figures.oneSwarmHeld)} of ${int(ONE_SWARM_PEERS)}, numwant=200 gets ${figures.oneSwarmReturned}`
}

type Results<T> = Partial<Record<TrackerName, T[]>>

/** A summary table: medians over the rounds for each tracker that ran, and the ratios to evertorrent. */
class Summary {
  constructor (private readonly names: readonly TrackerName[]) {}

  header (rounds: number): string {
    const ratios = this.names.includes('before') ? ' evertorrent / opentracker | evertorrent / before |' : ' evertorrent / opentracker |'
    return `| median of ${rounds} round(s) |${this.names.map((name) => ` ${name} |`).join('')}${ratios}\n|---|${this.names.map(() => '---|').join('')}---|${this.names.includes('before') ? '---|' : ''}`
  }

  row<T> (what: string, results: Results<T>, pick: (figures: T) => number, format: (value: number) => string, ratio = true): string {
    const medians = new Map(this.names.map((name) => [name, median((results[name] ?? []).map(pick))]))
    const ratioTo = (other: TrackerName): string => ratio ? ratioText(medians.get('evertorrent')!, medians.get(other)!) : ''
    const ratios = this.names.includes('before') ? [ratioTo('opentracker'), ratioTo('before')] : [ratioTo('opentracker')]
    return `| ${what} |${this.names.map((name) => ` ${format(medians.get(name)!)} |`).join('')}${ratios.map((text) => ` ${text} |`).join('')}`
  }
}

function printSummary (plan: Plan, udp: Map<number, Results<UdpFigures>>, http: Results<HttpFigures>, memory: Results<MemoryFigures>): void {
  const table = new Summary(plan.trackers)
  const lines = [table.header(plan.rounds)]
  const fixed = (digits: number) => (value: number): string => value.toFixed(digits)
  if (plan.measures.has('udp')) {
    for (const [rate, results] of udp) {
      const offered = `UDP ${int(rate)}/s offered`
      lines.push(
        table.row(`${offered}: sent/s (the rest skipped, generators late)`, results, (f) => f.sentPerSecond, int, false),
        table.row(`${offered}: answered/s`, results, (f) => f.answeredPerSecond, int),
        table.row(`${offered}: loss %`, results, (f) => f.lossPercent, fixed(2), false),
        table.row(`${offered}: CPU s per 1,000 announces`, results, (f) => f.cpuPerThousand, fixed(3)))
    }
  }
  if (plan.measures.has('http')) {
    lines.push(
      table.row(`HTTP (wrk ${WRK_THREADS} threads × ${WRK_CONNECTIONS / WRK_THREADS} connections, ${plan.httpSeconds} s): req/s`, http, (f) => f.requestsPerSecond, int),
      table.row('HTTP latency p50 (wrk: connection set-up counted in)', http, (f) => f.wrk.p50Us, ms),
      table.row('HTTP latency p99 (wrk: connection set-up counted in)', http, (f) => f.wrk.p99Us, ms),
      table.row('HTTP latency max (wrk: connection set-up counted in)', http, (f) => f.wrk.maxUs, ms),
      table.row(`HTTP steady state (${WRK_CONNECTIONS} connections, each answered once before): req/s`, http, (f) => f.steady.requestsPerSecond, int),
      table.row('HTTP steady state latency p50', http, (f) => f.steady.p50Us, ms),
      table.row('HTTP steady state latency p99', http, (f) => f.steady.p99Us, ms),
      table.row('HTTP steady state latency max', http, (f) => f.steady.maxUs, ms),
      table.row('HTTP errors and failed announces', http, (f) => f.errors, int, false),
      table.row('HTTP connections the tracker closed (wrk\'s read errors)', http, (f) => f.wrk.readErrors, int, false),
      table.row('HTTP CPU s per 1,000 requests', http, (f) => f.cpuPerThousand, fixed(3)),
      table.row('HTTP RSS before load', http, (f) => f.rssBefore, mb),
      table.row('HTTP RSS peak during load', http, (f) => f.rssPeak, mb))
  }
  if (plan.measures.has('memory')) {
    lines.push(
      table.row('RSS added by 100,000 peers over 1,000 swarms', memory, (f) => f.rssAfter - f.rssBefore, mb),
      table.row('peak RSS (VmHWM) after them', memory, (f) => f.peakAfter, mb),
      table.row('peers held of the 100,000 (scrapes)', memory, (f) => f.held, int, false),
      table.row(`one swarm fed ${int(ONE_SWARM_PEERS)} peers: holds`, memory, (f) => f.oneSwarmHeld, int, false),
      table.row('one swarm: peers a numwant=200 announce gets', memory, (f) => f.oneSwarmReturned, int, false))
  }
  console.log(`\n${lines.join('\n')}`)
}

/** The CPU and the load average, as the README's tables name them (the machine is shared). */
function machine (): string {
  return `${cpus()[0]?.model ?? 'unknown CPU'} × ${availableParallelism()}, load average ${loadAverage()}`
}

function loadAverage (): string {
  return loadavg().map((load) => load.toFixed(2)).join(' ')
}

// ---------------------------------------------------------------- main

async function main (): Promise<void> {
  const plan = parsePlan()
  if (plan === undefined) {
    console.log(USAGE)
    return
  }
  requireOpentracker()
  if (plan.measures.has('http')) requireWrk()
  const root = makeTempDir('evertorrent-bench-tracker-')
  const interrupt = (): void => {
    killAllChildren()
    removeTempDir(root)
    process.exit(130)
  }
  process.once('SIGINT', interrupt)
  process.once('SIGTERM', interrupt)
  const all = swarmHashes(LOAD_POPULATION.swarms + 2)
  const checkHash = all.pop()!
  const files: Files = { root, loadHashes: join(root, 'swarms.txt'), oneSwarmHash: all.pop()!.toString('hex'), checkHash, hashes: all }
  writeFileSync(files.loadHashes, all.map((hash) => `${hash.toString('hex')}\n`).join(''))
  const udp = new Map<number, Results<UdpFigures>>(UDP_RATES.map((rate) => [rate, {}]))
  const http: Results<HttpFigures> = {}
  const memory: Results<MemoryFigures> = {}
  const record = <T>(results: Results<T>, name: TrackerName, figures: T): void => { (results[name] ??= []).push(figures) }
  console.log(`${machine()}; node ${process.version}; ${plan.rounds} round(s), the trackers' order swapped each round; evertorrent settings: ${JSON.stringify(EVERTORRENT_SETTINGS)}, memory measures add ${JSON.stringify(MEMORY_SETTINGS)}; ` +
    `load population ${int(LOAD_POPULATION.peers)} peers over ${int(LOAD_POPULATION.swarms)} swarms, numwant ${NUMWANT}`)
  let started = 0
  try {
    for (let round = 0; round < plan.rounds; round++) {
      const order = round % 2 === 0 ? plan.trackers : [...plan.trackers].reverse()
      const dirOf = (name: string): string => join(root, `run-${++started}-${name}`)
      if (plan.measures.has('udp')) {
        for (const rate of UDP_RATES) {
          for (const name of order) {
            progress(`round ${round + 1}: UDP at ${int(rate)}/s on ${name}`)
            const tracker = await start(name, plan, files, dirOf(name))
            try {
              const figures = await measureUdp(tracker, files, rate, plan.udpSeconds)
              record(udp.get(rate)!, name, figures)
              console.log(`round ${round + 1} UDP ${int(rate)}/s offered, ${udpLine(name, figures)}`)
            } finally {
              await tracker.stop()
            }
          }
        }
      }
      if (plan.measures.has('http')) {
        for (const name of order) {
          progress(`round ${round + 1}: HTTP on ${name}`)
          const tracker = await start(name, plan, files, dirOf(name))
          try {
            const figures = await measureHttp(tracker, files, plan.httpSeconds)
            record(http, name, figures)
            console.log(`round ${round + 1} HTTP, ${httpLine(name, figures)}`)
          } finally {
            await tracker.stop()
          }
        }
      }
      if (plan.measures.has('memory')) {
        for (const name of order) {
          progress(`round ${round + 1}: memory on ${name}`)
          const figures = await measureMemory(name, plan, files, dirOf(name))
          record(memory, name, figures)
          console.log(`round ${round + 1} memory, ${memoryLine(name, figures)}`)
        }
      }
    }
    printSummary(plan, udp, http, memory)
    console.log(`\nload average at the end: ${loadAverage()}`)
  } finally {
    killAllChildren()
    removeTempDir(root)
  }
}

try {
  await main()
} catch (error) {
  progress(error instanceof Error ? (error.stack ?? error.message) : String(error))
  process.exitCode = 1
}
