/**
 * `node dist/scripts/bench-serve.js`: how fast, in how much memory and how soon after a restart
 * `evertorrent serve` seeds, side by side with transmission-daemon and (if installed) torrent-stream,
 * all downloaded from by aria2c over loopback. Prints a markdown table (for the README) and the raw
 * numbers of every run.
 *
 * 1. Throughput: one large item (hashed by evertorrent first, then downloaded from it restarted),
 *    downloaded by one aria2c from each seeder in turn, each seeder alone in its swarm (evertorrent through its own tracker, the others through a neutral tracker each;
 *    no web seeds, DHT, LPD or PEX), best of `--runs`.
 * 2. 1,000 items: first publish (hashing); peak RSS of the seeder.
 * 3. Restart on the same state: time to `ready`, to the last `published resumed=true`, and to the
 *    last item being announced by the tracker and answered on the peer port with a full bitfield.
 *    Then one more restart, and 20 aria2c peers at once; peak RSS of the seeder. On a restarted
 *    process, as on a box that has been running: right after a first publish the hashing threads
 *    live on for 10 s (HashPool's idle timeout), and their memory is the hasher's, measured in 2.
 * 4. torrent-stream: the same throughput run, and its start with the 1,000 torrents.
 *
 * Usage: node dist/scripts/bench-serve.js [--quick] [--runs N] [--torrent-stream DIR | --no-torrent-stream] [--cli PATH]
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs'
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { availableParallelism, cpus, loadavg } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { SETTINGS } from '../appliance/config/settings.js'
import { encodeTorrent, parseTorrent } from '../appliance/metainfo/metainfo.js'
import { pseudoRandomStream, seededRandom, writePseudoRandomFile } from '../test/helpers/content.js'
import { benchScratch, runBench } from './bench-scratch.js'
import { cpuSecondsOf, memoryOf, resetPeak } from '../test/helpers/proc.js'
import { runOk } from '../test/helpers/run.js'
import { serviceProcess, type LogLine, type ServePorts, type ServeProcess } from '../test/helpers/serve-process.js'
import { aria2Downloader } from '../test/interop/clients/aria2.js'
import { sha256File } from '../test/interop/clients/sha256-tree.js'
import { startStandInTracker } from '../test/interop/clients/stand-in-tracker.js'
import { transmissionDownloader } from '../test/interop/clients/transmission.js'
import { announceProbe, handshakeProbe } from './bench-serve-probes.js'
import {
  addAndVerify, downloadWithAria2, nextLoopbackAddress, problemsOf, publishedLines, startServe, startTransmission, TorrentStreamSeeder, type BenchServeOptions
} from './bench-serve-seeders.js'

const KiB = 1024
const MiB = 1024 * KiB
const GiB = 1024 * MiB
/** Throughput and memory are in MB (10^6 bytes), the unit of the goals. */
const MB = 1e6

/**
 * aria2c keeps up to 256 block requests outstanding on a fast link and ignores BEP 10 `reqq`. That
 * fits in evertorrent's default queue; a client that overshoots it has each extra request refused
 * (BEP 6) as a strike, and every block served takes a strike back (`refuseFlood` in
 * seeder/peer-session.ts), so only a peer that keeps flooding is dropped. The benchmark measures
 * the default unless told otherwise.
 */
const DEFAULT_MAX_REQUESTS = SETTINGS['seeder.max_requests_per_peer'].default()

const USAGE = `Usage: node dist/scripts/bench-serve.js [options]

Options:
  --quick                smoke run: 256 MiB item, 200 items, 8 peers, one run of each
  --runs N               aria2c downloads per seeder (the best counts) and restarts (default: 2)
  --torrent-stream DIR   the torrent-stream package folder, e.g. from
                         npm install --prefix /tmp/ts torrent-stream -> /tmp/ts/node_modules/torrent-stream
                         (default: the one this project resolves, if any)
  --no-torrent-stream    leave torrent-stream out
  --max-requests N       evertorrent's seeder.max_requests_per_peer (default: the service's own, ${DEFAULT_MAX_REQUESTS})
  --cli PATH             the evertorrent CLI to measure (default: dist/appliance/cli.js of this build)
  -h, --help             this help`

interface Settings {
  readonly quick: boolean
  readonly runs: number
  readonly cli: string
  /** evertorrent's `seeder.max_requests_per_peer`; undefined: its default. */
  readonly maxRequests: number | undefined
  /** Path of the torrent-stream package; undefined leaves it out. */
  readonly torrentStream: string | undefined
  readonly torrentStreamNote: string
  readonly bigBytes: number
  /** Items in the many-items library, the shared one included. */
  readonly itemCount: number
  readonly sharedBytes: number
  readonly peers: number
  /** Small items each peer downloads besides the shared one. */
  readonly itemsPerPeer: number
}

type SeederName = 'evertorrent' | 'transmission' | 'torrent-stream'

interface DownloadRun {
  readonly seeder: SeederName
  readonly round: number
  /** aria2c spawn to exit. */
  readonly seconds: number
  /** aria2c spawn to the first bytes in its file (polled every 20 ms; aria2c's write cache delays it by up to 16 MiB). */
  readonly firstDataSeconds: number
  readonly peakBytes: number
  readonly cpuSeconds: number
  readonly peersHandedOut: readonly string[]
}

interface CrowdResult {
  readonly peers: number
  readonly completed: number
  readonly seconds: number
  readonly bytes: number
  readonly filesChecked: number
  readonly mismatches: readonly string[]
  readonly peakBytes: number
  readonly rssAfterBytes: number
  readonly cpuSeconds: number
  readonly failures: readonly string[]
}

interface RestartRun {
  readonly readyMs: number
  readonly lastPublishedMs: number
  readonly allResumed: boolean
  readonly announcedMs: number
  readonly servingMs: number
  readonly peakBytes: number
  readonly rssBytes: number
}

interface TorrentStreamResults {
  readonly version: string
  readonly bigVerifyMs: number
  readonly manyReadyMs: number
  readonly manyServingMs: number
  readonly manyPeakBytes: number
  readonly manyRssBytes: number
  readonly manyCpuSeconds: number
  readonly noVerifyReadyMs: number
  readonly noVerifyPieces: number
  readonly lastItemPieces: number
  readonly errors: readonly string[]
}

interface Results {
  readonly settings: Settings
  readonly versions: Record<string, string>
  readonly bigHashMs: number
  readonly transmissionVerifyMs: number
  readonly downloads: readonly DownloadRun[]
  readonly manyBytes: number
  readonly firstPublishMs: number
  readonly firstPublishReadyMs: number
  readonly firstPublishPeakBytes: number
  readonly crowd: CrowdResult
  readonly restarts: readonly RestartRun[]
  readonly torrentStream: TorrentStreamResults | undefined
  readonly problems: readonly string[]
  readonly loadBefore: number
  readonly loadAfter: number
  readonly seconds: number
}

// ---------------------------------------------------------------- content

const itemName = (index: number): string => `item-${String(index).padStart(4, '0')}.bin`
/** Sorts after every `item-NNNN.bin`, so it is published last. */
const SHARED_NAME = 'shared.bin'

/** `count - 1` items of 256 KiB–1 MiB and one shared item; returns the total size. */
async function writeManyItems (library: string, count: number, sharedBytes: number): Promise<number> {
  await mkdir(library, { recursive: true })
  const random = seededRandom(1000)
  const next = pseudoRandomStream('bench-serve: items')
  let total = 0
  for (let index = 0; index < count - 1; index++) {
    const bytes = 256 * KiB + Math.floor(random() * (768 * KiB + 1))
    await writeFile(join(library, itemName(index)), next(bytes))
    total += bytes
  }
  await writePseudoRandomFile(join(library, SHARED_NAME), sharedBytes, 'bench-serve: shared item')
  return total + sharedBytes
}

/**
 * A copy of the .torrent at `source` without web seeds, announcing to `announceUrl` only if given (else
 * to the trackers it names), so that a client reaches one seeder only; resolves with the copy's path.
 */
async function retargeted (source: string, target: string, announceUrl?: string): Promise<string> {
  const metainfo = parseTorrent(await readFile(source))
  await writeFile(target, encodeTorrent({ ...metainfo, ...(announceUrl !== undefined && { announceList: [[announceUrl]] }), urlList: [] }))
  return target
}

// ---------------------------------------------------------------- 1. throughput

function serveOptions (settings: Settings, library: string, stateDir: string, ports?: ServePorts): BenchServeOptions {
  return { cli: settings.cli, libraries: [library], stateDir, ...(settings.maxRequests !== undefined && { maxRequests: settings.maxRequests }), ...(ports !== undefined && { ports }) }
}

interface SeederUnderTest {
  readonly name: SeederName
  readonly pid: number
  /** The .torrent aria2c gets: this seeder's tracker only, no web seeds. */
  readonly torrent: string
  readonly infoHash: string
  readonly announceUrl: string
  readonly peerPort: number
}

async function downloadOnce (seeder: SeederUnderTest, round: number, bytes: number, fileName: string, downloads: string): Promise<DownloadRun> {
  // What aria2c will be told: this seeder, and no other (downloaders of earlier runs said 'stopped').
  const peers = await announceProbe(seeder.announceUrl, seeder.infoHash)
  await announceProbe(seeder.announceUrl, seeder.infoHash, 'stopped')
  if (!peers.peers.includes(`127.0.0.1:${seeder.peerPort}`)) throw new Error(`the tracker does not hand out ${seeder.name} (${JSON.stringify(peers)})`)
  const dir = join(downloads, `${seeder.name}-${round}`)
  const peakReset = resetPeak(seeder.pid)
  const cpuBefore = cpuSecondsOf(seeder.pid)
  const run = await downloadWithAria2({ torrents: [seeder.torrent], dir, address: nextLoopbackAddress(), timeoutMs: 300_000 })
  let exited = false
  void run.exit.then(() => { exited = true })
  let firstDataAt: number | undefined
  while (!exited && firstDataAt === undefined) {
    const blocks = await stat(join(dir, fileName)).then((info) => info.blocks, () => 0)
    if (blocks > 0) firstDataAt = performance.now()
    else await sleep(20)
  }
  const exit = await run.exit
  const memory = memoryOf(seeder.pid)
  const cpuSeconds = cpuSecondsOf(seeder.pid) - cpuBefore
  if (exit.code !== 0) throw new Error(`aria2c from ${seeder.name} exited with ${exit.code ?? exit.signal}:\n${run.child.logTail()}`)
  const size = (await stat(join(dir, fileName))).size
  if (size !== bytes) throw new Error(`aria2c from ${seeder.name} wrote ${size} bytes, not ${bytes}`)
  await rm(dir, { recursive: true, force: true })
  if (!peakReset) progress(`warning: cannot reset the peak RSS of ${seeder.name}; its lifetime peak is reported`)
  return {
    seeder: seeder.name,
    round,
    seconds: (exit.at - run.spawnedAt) / 1000,
    firstDataSeconds: ((firstDataAt ?? exit.at) - run.spawnedAt) / 1000,
    peakBytes: memory.peakBytes,
    cpuSeconds,
    peersHandedOut: peers.peers
  }
}

interface ThroughputResults {
  readonly bigHashMs: number
  readonly transmissionVerifyMs: number
  readonly torrentStreamVerifyMs: number | undefined
  readonly downloads: DownloadRun[]
}

/** Each seeder with its own copy of the torrent evertorrent made; the seeders are stopped in reverse order at the end. */
async function throughput (settings: Settings, work: string, downloads: string, problems: string[]): Promise<ThroughputResults> {
  const library = join(work, 'big-library')
  const torrents = join(work, 'torrents')
  await mkdir(torrents, { recursive: true })
  const stops: Array<() => Promise<unknown>> = []
  try {
    const stateDir = join(work, 'state-big')
    const hashing = await startServe(serveOptions(settings, library, stateDir))
    progress(`evertorrent serve: hashing the ${size(settings.bigBytes)} item`)
    const [published] = await publishedLines(hashing, 1, 300_000).finally(async () => await hashing.stop())
    const source = published!.line.torrent!
    const infoHash = published!.line.infohash!
    const bigHashMs = published!.ms - hashing.readyMs
    // Downloads from a restarted process, as on a box that has been running: right after hashing,
    // the hashing threads live on for their idle timeout (10 s), and the hasher is measured apart.
    const serve = await startServe(serveOptions(settings, library, stateDir, hashing.ports))
    stops.push(async () => await serve.stop())
    await publishedLines(serve, 1, 60_000)
    const seeders: SeederUnderTest[] = [{
      name: 'evertorrent', pid: serve.pid, torrent: await retargeted(source, join(torrents, 'evertorrent.torrent')), infoHash, announceUrl: serve.announceUrl, peerPort: serve.peerPort
    }]

    const transmissionTracker = await startStandInTracker()
    stops.push(async () => await transmissionTracker.close())
    const transmission = await startTransmission(join(work, 'transmission'), library)
    stops.push(async () => await transmission.stop())
    const transmissionTorrent = await retargeted(source, join(torrents, 'transmission.torrent'), transmissionTracker.announceUrl)
    progress('transmission-daemon: verifying the item')
    const transmissionVerifyMs = await addAndVerify(transmission, transmissionTorrent, library, 300_000)
    seeders.push({ name: 'transmission', pid: transmission.process.pid, torrent: transmissionTorrent, infoHash, announceUrl: transmissionTracker.announceUrl, peerPort: transmission.peerPort })

    let torrentStream: TorrentStreamSeeder | undefined
    let torrentStreamVerifyMs: number | undefined
    if (settings.torrentStream !== undefined) {
      const tracker = await startStandInTracker()
      stops.push(async () => await tracker.close())
      torrentStream = await TorrentStreamSeeder.start({ module: settings.torrentStream, torrents: [{ torrent: source, dir: library }], workDir: work, announceUrl: tracker.announceUrl, verify: true })
      const seeder = torrentStream
      stops.push(async () => await seeder.stop())
      progress('torrent-stream: verifying the item')
      torrentStreamVerifyMs = await seeder.ready(300_000)
      // Its tracker client announces once the engine exists; wait for that before the first download.
      await waitUntil(async () => (await announceProbe(tracker.announceUrl, infoHash)).peers.includes(`127.0.0.1:${seeder.port}`), 10_000)
      const torrent = await retargeted(source, join(torrents, 'torrent-stream.torrent'), tracker.announceUrl)
      seeders.push({ name: 'torrent-stream', pid: seeder.pid, torrent, infoHash, announceUrl: tracker.announceUrl, peerPort: seeder.port })
    }

    const downloadRuns: DownloadRun[] = []
    // The seeders take turns within each round, so a busy moment of the machine does not fall on one only.
    for (let round = 1; round <= settings.runs; round++) {
      for (const seeder of seeders) {
        const run = await downloadOnce(seeder, round, settings.bigBytes, 'big.bin', downloads)
        downloadRuns.push(run)
        progress(`${size(settings.bigBytes)} from ${seeder.name}, run ${round}/${settings.runs}: ${run.seconds.toFixed(2)} s, ` +
          `${mbps(settings.bigBytes, run.seconds)} MB/s, first data after ${run.firstDataSeconds.toFixed(2)} s, peak RSS ${mb(run.peakBytes)} MB`)
      }
    }
    problems.push(...(torrentStream?.errors().map((error) => `torrent-stream: ${error}`) ?? []))
    problems.push(...problemsOf(serve).map((line) => `evertorrent (big item): ${line.msg} ${line.error ?? ''}`))
    return { bigHashMs, transmissionVerifyMs, torrentStreamVerifyMs, downloads: downloadRuns }
  } finally {
    for (const stop of stops.reverse()) await stop()
  }
}

// ---------------------------------------------------------------- 2. 1,000 items and 20 peers

interface FirstPublish {
  readonly readyMs: number
  readonly lastMs: number
  readonly peakBytes: number
  /** In publishing order. */
  readonly published: readonly LogLine[]
  readonly ports: ServePorts
}

async function firstPublish (settings: Settings, library: string, stateDir: string, problems: string[]): Promise<FirstPublish> {
  const serve = await startServe(serveOptions(settings, library, stateDir))
  try {
    progress(`evertorrent serve: first publish of ${settings.itemCount} items`)
    const published = await publishedLines(serve, settings.itemCount, 600_000)
    const lastMs = published.at(-1)!.ms
    const notHashed = published.filter((entry) => entry.line.resumed !== 'false')
    if (notHashed.length > 0) problems.push(`first publish: ${notHashed.length} items were not hashed (resumed=true)`)
    const peakBytes = memoryOf(serve.pid).peakBytes
    progress(`published ${settings.itemCount} items in ${(lastMs / 1000).toFixed(2)} s from spawn; peak RSS ${mb(peakBytes)} MB`)
    problems.push(...problemsOf(serve).map((line) => `evertorrent (first publish): ${line.msg} ${line.error ?? ''}`))
    return { readyMs: serve.readyMs, lastMs, peakBytes, published: published.map((entry) => entry.line), ports: serve.ports }
  } finally {
    await serve.stop()
  }
}

/** A restart on the state of the first publish, then the crowd once every item is resumed. */
async function crowdAfterRestart (settings: Settings, library: string, stateDir: string, ports: ServePorts, work: string, downloads: string, problems: string[]): Promise<CrowdResult> {
  const serve = await startServe(serveOptions(settings, library, stateDir, ports))
  try {
    const published = await publishedLines(serve, settings.itemCount, 120_000)
    const crowd = await downloadCrowd(settings, serve, published.map((entry) => entry.line), library, work, downloads)
    problems.push(...problemsOf(serve).map((line) => `evertorrent (crowd): ${line.msg} ${line.error ?? ''}`))
    return crowd
  } finally {
    await serve.stop()
  }
}

/** `peers` aria2c processes at once, each downloading the shared item and `itemsPerPeer` small items of its own. */
async function downloadCrowd (settings: Settings, serve: ServeProcess, published: readonly LogLine[], library: string, work: string, downloads: string): Promise<CrowdResult> {
  const torrents = join(work, 'crowd-torrents')
  await mkdir(torrents, { recursive: true })
  const copy = async (line: LogLine): Promise<string> => await retargeted(line.torrent!, join(torrents, `${line.infohash!}.torrent`))
  const shared = published.find((line) => line.name === SHARED_NAME)!
  const small = published.filter((line) => line !== shared)
  const sharedTorrent = await copy(shared)
  const plans: Array<{ dir: string, torrents: string[], names: string[] }> = []
  const distinct = settings.peers * settings.itemsPerPeer
  for (let peer = 0; peer < settings.peers; peer++) {
    const mine = Array.from({ length: settings.itemsPerPeer }, (_, k) => small[Math.floor((peer * settings.itemsPerPeer + k) * small.length / distinct)]!)
    plans.push({
      dir: join(downloads, `peer-${String(peer).padStart(2, '0')}`),
      torrents: [sharedTorrent, ...await Promise.all(mine.map(copy))],
      names: [SHARED_NAME, ...mine.map((line) => line.name!)]
    })
  }
  const bytes = plans.length * settings.sharedBytes + plans.flatMap((plan) => plan.names.slice(1)).reduce((sum, name) => sum + Number(published.find((line) => line.name === name)!.size), 0)
  progress(`${settings.peers} aria2c peers at once: ${size(bytes)} in all`)
  const peakReset = resetPeak(serve.pid)
  const cpuBefore = cpuSecondsOf(serve.pid)
  const started = performance.now()
  const runs = await Promise.all(plans.map(async (plan) => await downloadWithAria2({ torrents: plan.torrents, dir: plan.dir, address: nextLoopbackAddress(), timeoutMs: 300_000 })))
  const exits = await Promise.all(runs.map(async (run) => await run.exit))
  const seconds = (Math.max(...exits.map((exit) => exit.at)) - started) / 1000
  const memory = memoryOf(serve.pid)
  const cpuSeconds = cpuSecondsOf(serve.pid) - cpuBefore
  if (!peakReset) progress('warning: cannot reset the peak RSS of evertorrent; its lifetime peak is reported')
  const failures = exits.flatMap((exit, index) => exit.code === 0 ? [] : [`peer ${index}: aria2c exited with ${exit.code ?? exit.signal}: ${runs[index]!.child.logTail().slice(-500)}`])

  progress('checking sha256 of every downloaded file')
  const expected = new Map<string, string>()
  const mismatches: string[] = []
  let filesChecked = 0
  for (const plan of plans) {
    for (const name of plan.names) {
      if (!expected.has(name)) expected.set(name, await sha256File(join(library, name)))
      const got = await sha256File(join(plan.dir, name)).catch(() => 'missing')
      filesChecked++
      if (got !== expected.get(name)) mismatches.push(`${plan.dir}/${name}: ${got}`)
    }
    await rm(plan.dir, { recursive: true, force: true })
  }
  return {
    peers: settings.peers,
    completed: exits.filter((exit) => exit.code === 0).length,
    seconds,
    bytes,
    filesChecked,
    mismatches,
    peakBytes: memory.peakBytes,
    rssAfterBytes: memory.rssBytes,
    cpuSeconds,
    failures
  }
}

// ---------------------------------------------------------------- 3. restart

interface LastItem {
  readonly infoHash: string
  readonly pieceCount: number
}

/** On the ports of the first run, as an appliance restarts: its torrents name them, so none is rewritten. */
async function restartOnce (settings: Settings, library: string, stateDir: string, ports: ServePorts, last: LastItem, problems: string[]): Promise<RestartRun> {
  const serve = await startServe(serveOptions(settings, library, stateDir, ports))
  try {
    const probing = (async () => {
      await waitUntil(async () => (await announceProbe(serve.announceUrl, last.infoHash)).peers.includes(`127.0.0.1:${serve.peerPort}`), 60_000, 10)
      const announcedMs = performance.now() - serve.spawnedAt
      await announceProbe(serve.announceUrl, last.infoHash, 'stopped')
      await waitUntil(async () => {
        const answer = await handshakeProbe(serve.peerPort, last.infoHash, last.pieceCount)
        return answer.answered && answer.piecesAdvertised === last.pieceCount
      }, 60_000, 10)
      return { announcedMs, servingMs: performance.now() - serve.spawnedAt }
    })()
    const published = await publishedLines(serve, settings.itemCount, 120_000)
    const { announcedMs, servingMs } = await probing
    const memory = memoryOf(serve.pid)
    problems.push(...problemsOf(serve).map((line) => `evertorrent (restart): ${line.msg} ${line.error ?? ''}`))
    return {
      readyMs: serve.readyMs,
      lastPublishedMs: published.at(-1)!.ms,
      allResumed: published.every((entry) => entry.line.resumed === 'true'),
      announcedMs,
      servingMs,
      peakBytes: memory.peakBytes,
      rssBytes: memory.rssBytes
    }
  } finally {
    await serve.stop()
  }
}

// ---------------------------------------------------------------- 4. torrent-stream with 1,000 torrents

async function torrentStreamMany (module: string, library: string, published: readonly LogLine[], last: LastItem, work: string): Promise<Omit<TorrentStreamResults, 'version' | 'bigVerifyMs'>> {
  const torrents = published.map((line) => ({ torrent: line.torrent!, dir: library }))
  const tracker = await startStandInTracker()
  const errors: string[] = []
  try {
    progress(`torrent-stream: starting with ${torrents.length} torrents (it verifies every piece)`)
    const seeder = await TorrentStreamSeeder.start({ module, torrents, workDir: work, announceUrl: tracker.announceUrl, verify: true })
    let manyReadyMs: number
    let manyServingMs: number
    let memory
    let manyCpuSeconds: number
    try {
      manyReadyMs = await seeder.ready(600_000)
      await waitUntil(async () => (await announceProbe(tracker.announceUrl, last.infoHash)).peers.includes(`127.0.0.1:${seeder.port}`), 60_000, 10)
      await waitUntil(async () => {
        const answer = await handshakeProbe(seeder.port, last.infoHash, last.pieceCount)
        return answer.answered && answer.piecesAdvertised === last.pieceCount
      }, 60_000, 10)
      manyServingMs = performance.now() - seeder.spawnedAt
      memory = memoryOf(seeder.pid)
      manyCpuSeconds = cpuSecondsOf(seeder.pid)
      errors.push(...seeder.errors())
    } finally {
      await seeder.stop()
    }

    progress('torrent-stream: starting with verify: false')
    const unverified = await TorrentStreamSeeder.start({ module, torrents, workDir: work, verify: false })
    try {
      const noVerifyReadyMs = await unverified.ready(120_000)
      const answer = await handshakeProbe(unverified.port, last.infoHash, last.pieceCount)
      errors.push(...unverified.errors())
      return {
        manyReadyMs,
        manyServingMs,
        manyPeakBytes: memory.peakBytes,
        manyRssBytes: memory.rssBytes,
        manyCpuSeconds,
        noVerifyReadyMs,
        noVerifyPieces: answer.answered ? answer.piecesAdvertised : -1,
        lastItemPieces: last.pieceCount,
        errors
      }
    } finally {
      await unverified.stop()
    }
  } finally {
    await tracker.close()
  }
}

// ---------------------------------------------------------------- run

async function runAll (settings: Settings, work: string, downloads: string): Promise<Results> {
  const started = performance.now()
  const loadBefore = loadavg()[0]!
  if (loadBefore > 0.5) progress(`warning: the load average is ${loadBefore.toFixed(2)}; other processes will slow the seeders down`)
  const problems: string[] = []
  const versions = await toolVersions(settings)

  progress(`writing a ${size(settings.bigBytes)} item and ${settings.itemCount} items in ${work}`)
  await mkdir(join(work, 'big-library'), { recursive: true })
  await writePseudoRandomFile(join(work, 'big-library', 'big.bin'), settings.bigBytes, 'bench-serve: big item')
  const manyLibrary = join(work, 'many-library')
  const manyBytes = await writeManyItems(manyLibrary, settings.itemCount, settings.sharedBytes)

  const big = await throughput(settings, work, downloads, problems)

  const stateDir = join(work, 'state-many')
  const first = await firstPublish(settings, manyLibrary, stateDir, problems)
  const lastLine = first.published.at(-1)!
  const last: LastItem = { infoHash: lastLine.infohash!, pieceCount: parseTorrent(await readFile(lastLine.torrent!)).pieceCount }

  const restarts: RestartRun[] = []
  for (let run = 1; run <= settings.runs; run++) {
    const restart = await restartOnce(settings, manyLibrary, stateDir, first.ports, last, problems)
    restarts.push(restart)
    progress(`restart ${run}/${settings.runs}: ready ${ms(restart.readyMs)}, ${settings.itemCount} resumed ${ms(restart.lastPublishedMs)}, ` +
      `last item serving ${ms(restart.servingMs)}, peak RSS ${mb(restart.peakBytes)} MB`)
  }

  const crowd = await crowdAfterRestart(settings, manyLibrary, stateDir, first.ports, work, downloads, problems)

  let torrentStream: TorrentStreamResults | undefined
  if (settings.torrentStream !== undefined) {
    const many = await torrentStreamMany(settings.torrentStream, manyLibrary, first.published, last, work)
    problems.push(...many.errors.map((error) => `torrent-stream: ${error}`))
    torrentStream = { version: versions['torrent-stream']!, bigVerifyMs: big.torrentStreamVerifyMs!, ...many }
  }

  return {
    settings,
    versions,
    bigHashMs: big.bigHashMs,
    transmissionVerifyMs: big.transmissionVerifyMs,
    downloads: big.downloads,
    manyBytes,
    firstPublishMs: first.lastMs,
    firstPublishReadyMs: first.readyMs,
    firstPublishPeakBytes: first.peakBytes,
    crowd,
    restarts,
    torrentStream,
    problems,
    loadBefore,
    loadAfter: loadavg()[0]!,
    seconds: (performance.now() - started) / 1000
  }
}

async function toolVersions (settings: Settings): Promise<Record<string, string>> {
  const versions: Record<string, string> = {
    evertorrent: (await runOk(process.execPath, [settings.cli, '--version'])).stdout.split('\n')[0]!.trim(),
    aria2c: (await aria2Downloader.version()).replace(/^aria2 /, ''),
    transmission: (await transmissionDownloader.version()).replace(/^transmission-daemon /, '')
  }
  if (settings.torrentStream !== undefined) versions['torrent-stream'] = packageVersion(settings.torrentStream)
  return versions
}

/** The version in the package.json of the package folder (or file inside it) `path` names. */
function packageVersion (path: string): string {
  for (let dir = existsSync(join(path, 'package.json')) ? path : dirname(path); dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, 'package.json')
    if (existsSync(file)) return (JSON.parse(readFileSync(file, 'utf8')) as { version?: string }).version ?? '?'
  }
  return '?'
}

// ---------------------------------------------------------------- report

/** `node --max-old-space-size=128, NODE_OPTIONS=…`: how serve was started. */
function serviceDescription (): string {
  const { nodeFlags, env } = serviceProcess()
  return ['node', ...nodeFlags].join(' ') + Object.entries(env).map(([name, value]) => `, ${name}=${value}`).join('')
}

const thousands = (value: number): string => Math.round(value).toLocaleString('en-US')
const mbps = (bytes: number, seconds: number): string => thousands(bytes / seconds / MB)
const mb = (bytes: number): string => (bytes / MB).toFixed(1)
const ms = (value: number): string => `${(value / 1000).toFixed(2)} s`
const size = (bytes: number): string => bytes >= GiB ? `${+(bytes / GiB).toFixed(2)} GiB` : bytes >= MiB ? `${+(bytes / MiB).toFixed(1)} MiB` : `${+(bytes / KiB).toFixed(1)} KiB`
const met = (ok: boolean): string => ok ? 'met' : '**not met**'

interface SeederSummary {
  readonly best: DownloadRun
  readonly transferMBps: number
  readonly peakBytes: number
}

/** The fastest run of a seeder, and its highest peak RSS over all runs. */
function summarize (runs: readonly DownloadRun[], seeder: SeederName, bytes: number): SeederSummary | undefined {
  const mine = runs.filter((run) => run.seeder === seeder)
  if (mine.length === 0) return undefined
  const best = mine.reduce((a, b) => b.seconds < a.seconds ? b : a)
  return {
    best,
    transferMBps: Math.max(...mine.map((run) => bytes / Math.max(run.seconds - run.firstDataSeconds, 1e-3) / MB)),
    peakBytes: Math.max(...mine.map((run) => run.peakBytes))
  }
}

function report (results: Results): string {
  const { settings, versions, crowd, restarts } = results
  const bytes = settings.bigBytes
  const items = settings.itemCount.toLocaleString('en-US')
  const ever = summarize(results.downloads, 'evertorrent', bytes)!
  const trans = summarize(results.downloads, 'transmission', bytes)!
  const ts = results.torrentStream
  const tsRuns = summarize(results.downloads, 'torrent-stream', bytes)
  const bestRestart = restarts.reduce((a, b) => b.servingMs < a.servingMs ? b : a)
  const restartPeak = Math.max(...restarts.map((run) => run.peakBytes))
  const ratio = trans.best.seconds / ever.best.seconds
  const column = (value: (summary: SeederSummary) => string): string =>
    `| ${value(ever)} | ${value(trans)} |${tsRuns === undefined ? '' : ` ${value(tsRuns)} |`}`
  const tsCell = (text: string): string => ts === undefined ? '' : ` ${text} |`
  const crowdPeak = crowd.peakBytes
  // The serving goal: items published (a restart, resumed) and peers downloading. Hashing is measured apart.
  const peakOverall = Math.max(restartPeak, crowd.peakBytes)
  const tsHeader = ts === undefined ? '' : ` torrent-stream ${ts.version} |`

  const lines = [
    `### evertorrent serve: seeding (aria2c ${versions.aria2c} over loopback, cached data)`,
    '',
    `One ${size(bytes)} item (random data), downloaded by one aria2c from each seeder in turn, each seeder alone in its ` +
      'swarm (evertorrent through its own tracker, the others through a neutral tracker each; no web seeds, DHT, LPD or PEX). ' +
      `Best of ${settings.runs} run${settings.runs === 1 ? '' : 's'}, from aria2c's start to its exit. Peak RSS is VmHWM, reset before each download. ` +
      `evertorrent runs with its defaults (on loopback, LSD off, no settle time)${settings.maxRequests === undefined ? '' : ` but \`seeder.max_requests_per_peer = ${settings.maxRequests}\``}` +
      `, as the systemd unit runs it (${serviceDescription()}), from a restarted process (not the one that just hashed). ` +
      `MB = 10^6 bytes. ${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} cores, Node ${process.version}.`,
    '',
    `| | evertorrent ${versions.evertorrent} | transmission ${versions.transmission} |${tsHeader}`,
    `|---|--:|--:|${ts === undefined ? '' : '--:|'}`,
    `| **${size(bytes)} to one aria2c**, MB/s ${column((s) => mbps(bytes, s.best.seconds))}`,
    `| MB/s after the first data ${column((s) => thousands(s.transferMBps))}`,
    `| first data after (s) ${column((s) => s.best.firstDataSeconds.toFixed(2))}`,
    `| seeder peak RSS during the download (MB) ${column((s) => mb(s.peakBytes))}`,
    `| seeder CPU time for the download (s) ${column((s) => s.best.cpuSeconds.toFixed(2))}`,
    `| checking the ${size(bytes)} before seeding it (s) | ${(results.bigHashMs / 1000).toFixed(2)} (hash, first publish only) | ` +
      `${(results.transmissionVerifyMs / 1000).toFixed(2)} (verify when added) |${tsCell(`${((ts?.bigVerifyMs ?? 0) / 1000).toFixed(2)} (verify at every start)`)}`,
    `| **${items} items** (${size(results.manyBytes)}): start to seeding all (s) | ${(bestRestart.servingMs / 1000).toFixed(2)} (restart; first publish ${(results.firstPublishMs / 1000).toFixed(2)}) | – |` +
      tsCell(`${((ts?.manyServingMs ?? 0) / 1000).toFixed(2)} (verifies every piece)`),
    `| peak RSS with ${items} items loaded (MB) | ${mb(restartPeak)} | – |${tsCell(ts === undefined ? '' : mb(ts.manyPeakBytes))}`,
    '',
    `evertorrent with ${items} items (${size(results.manyBytes)}: ${settings.itemCount - 1} files of 256 KiB–1 MiB and one of ${size(settings.sharedBytes)}):`,
    '',
    '| | | goal |',
    '|---|--:|---|',
    `| first publish: spawn to the ${items}th \`published\` | ${ms(results.firstPublishMs)} (${mbps(results.manyBytes, (results.firstPublishMs - results.firstPublishReadyMs) / 1000)} MB/s after \`ready\`) | |`,
    `| peak RSS during the first publish (hashing threads, which stop 10 s after the last item) | ${mb(results.firstPublishPeakBytes)} MB | |`,
    `| after a restart, ${crowd.peers} aria2c peers at once (the ${size(settings.sharedBytes)} item + ${settings.itemsPerPeer} items each, ${size(crowd.bytes)} in all) | ` +
      `${crowd.completed}/${crowd.peers} complete, sha256 of ${crowd.filesChecked} files: ${crowd.mismatches.length === 0 ? 'all match' : `**${crowd.mismatches.length} differ**`}; ` +
      `${crowd.seconds.toFixed(2)} s, ${mbps(crowd.bytes, crowd.seconds)} MB/s in all | |`,
    `| peak RSS during the ${crowd.peers} downloads | ${mb(crowdPeak)} MB | < 100 MB: ${met(peakOverall < 100 * MB)} (highest of ${items} items at rest and downloads: ${mb(peakOverall)} MB) |`,
    `| restart: spawn to \`ready\` | ${ms(bestRestart.readyMs)} | |`,
    `| restart: spawn to the ${items}th \`published resumed=true\` | ${ms(bestRestart.lastPublishedMs)} | |`,
    `| restart: spawn to the last item announced by the tracker and answered on the peer port with a full bitfield | ${ms(bestRestart.servingMs)} | < 3 s: ${met(bestRestart.servingMs < 3000 && bestRestart.lastPublishedMs < 3000)} |`,
    `| peak RSS after the restart, ${items} items seeding | ${mb(restartPeak)} MB | |`,
    '',
    `- **Throughput goal** (evertorrent ≥ transmission): evertorrent ${mbps(bytes, ever.best.seconds)} MB/s, transmission ${mbps(bytes, trans.best.seconds)} MB/s, ` +
      `ratio **${ratio.toFixed(2)}×**: ${met(ratio >= 1)}.`
  ]
  if (ts !== undefined) {
    lines.push(
      `- **torrent-stream ${ts.version}** seeds only pieces it has verified: with \`verify: false\` it is ready after ${ms(ts.noVerifyReadyMs)} but advertises ` +
        `${ts.noVerifyPieces} of the last item's ${ts.lastItemPieces} pieces and ignores requests, so every start re-reads and hashes everything ` +
        `(${items} items: ${ms(ts.manyReadyMs)}, ${mbps(results.manyBytes, ts.manyReadyMs / 1000)} MB/s, ${ts.manyCpuSeconds.toFixed(1)} s CPU; ` +
        `RSS then ${mb(ts.manyRssBytes)} MB). It unchokes on a 10 s timer, hence its late first data.`
    )
  }
  lines.push(
    `- **Machine load** (1-minute load average): ${results.loadBefore.toFixed(2)} before, ${results.loadAfter.toFixed(2)} after. Benchmark wall time: ${results.seconds.toFixed(0)} s.`,
    ...(results.problems.length === 0 ? [] : [`- **Logged problems:** ${results.problems.slice(0, 10).join('; ')}`]),
    '',
    'Raw numbers:',
    '',
    '```',
    `${'download'.padEnd(16)}  ${'run'.padStart(3)}  ${'seconds'.padStart(8)}  ${'MB/s'.padStart(6)}  ${'first data s'.padStart(12)}  ${'peak RSS B'.padStart(11)}  ${'CPU s'.padStart(6)}  peers handed out`,
    ...results.downloads.map((run) => [
      run.seeder.padEnd(16), String(run.round).padStart(3), run.seconds.toFixed(3).padStart(8), mbps(bytes, run.seconds).padStart(6),
      run.firstDataSeconds.toFixed(3).padStart(12), String(run.peakBytes).padStart(11), run.cpuSeconds.toFixed(2).padStart(6), run.peersHandedOut.join(' ')
    ].join('  ')),
    `big item: ${bytes} bytes; evertorrent hash ${results.bigHashMs.toFixed(0)} ms; transmission verify ${results.transmissionVerifyMs.toFixed(0)} ms` +
      (ts === undefined ? '' : `; torrent-stream verify ${ts.bigVerifyMs.toFixed(0)} ms`),
    `many items: ${settings.itemCount} items, ${results.manyBytes} bytes; first publish: ready ${results.firstPublishReadyMs.toFixed(0)} ms, last published ${results.firstPublishMs.toFixed(0)} ms, peak RSS ${results.firstPublishPeakBytes} B`,
    `crowd: ${JSON.stringify(crowd)}`,
    ...restarts.map((run, index) => `restart ${index + 1}: ${JSON.stringify(run)}`),
    ...(ts === undefined ? [`torrent-stream: ${settings.torrentStreamNote}`] : [`torrent-stream: ${JSON.stringify(ts)}`]),
    '```'
  )
  return lines.join('\n')
}

// ---------------------------------------------------------------- main

function progress (message: string): void {
  process.stderr.write(`bench-serve: ${message}\n`)
}

async function sleep (milliseconds: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, milliseconds))
}

/** Polls `check` every `intervalMs` until it is true; throws after `timeoutMs`. */
async function waitUntil (check: () => Promise<boolean>, timeoutMs: number, intervalMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!await check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms`)
    await sleep(intervalMs)
  }
}

function findTorrentStream (): string | undefined {
  try {
    return dirname(createRequire(import.meta.url).resolve('torrent-stream'))
  } catch {
    return undefined
  }
}

function parseSettings (): Settings | undefined {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean' },
      runs: { type: 'string' },
      'torrent-stream': { type: 'string' },
      'no-torrent-stream': { type: 'boolean' },
      'max-requests': { type: 'string' },
      cli: { type: 'string' },
      help: { type: 'boolean', short: 'h' }
    }
  })
  if (values.help === true) return undefined
  for (const [option, text] of [['--runs', values.runs], ['--max-requests', values['max-requests']]] as const) {
    if (text !== undefined && !/^[1-9]\d*$/.test(text)) throw new Error(`${option} expects a positive whole number, not "${text}"`)
  }
  const quick = values.quick === true
  const torrentStream = values['no-torrent-stream'] === true ? undefined : values['torrent-stream'] ?? findTorrentStream()
  const torrentStreamNote = values['no-torrent-stream'] === true
    ? 'left out (--no-torrent-stream)'
    : 'not installed here; npm install --prefix /tmp/ts torrent-stream, then --torrent-stream /tmp/ts/node_modules/torrent-stream'
  return {
    quick,
    runs: values.runs !== undefined ? Number(values.runs) : quick ? 1 : 2,
    maxRequests: values['max-requests'] !== undefined ? Number(values['max-requests']) : undefined,
    cli: values.cli ?? fileURLToPath(new URL('../appliance/cli.js', import.meta.url)),
    torrentStream,
    torrentStreamNote,
    bigBytes: quick ? 256 * MiB : GiB,
    itemCount: quick ? 200 : 1000,
    sharedBytes: quick ? 16 * MiB : 64 * MiB,
    peers: quick ? 8 : 20,
    itemsPerPeer: 5
  }
}

/** Fails in a second, not after writing gigabytes. */
function checkPrerequisites (settings: Settings): void {
  for (const [path, hint] of [
    ['/usr/bin/aria2c', 'install it with scripts/install-test-deps.sh'],
    ['/usr/bin/transmission-daemon', 'install it with scripts/install-test-deps.sh'],
    [settings.cli, 'build first: npx tsc -p .'],
    [fileURLToPath(new URL('./bench-torrent-stream-seed.js', import.meta.url)), 'build first: npx tsc -p .'],
    ...(settings.torrentStream !== undefined ? [[settings.torrentStream, 'the --torrent-stream folder']] : [])
  ] as const) {
    if (!existsSync(path)) throw new Error(`${path} is missing: ${hint}`)
  }
}

/** Downloads go to memory when /dev/shm is there, so writeback of gigabytes does not disturb the seeders. */
function downloadsRoot (work: string): string {
  try {
    return mkdtempSync('/dev/shm/evertorrent-bench-serve-')
  } catch {
    return join(work, 'downloads')
  }
}

async function main (): Promise<number> {
  const settings = parseSettings()
  if (settings === undefined) {
    process.stdout.write(`${USAGE}\n`)
    return 0
  }
  checkPrerequisites(settings)
  let downloads = ''
  const { work, cleanUp } = benchScratch('bench-serve', progress, (work) => [downloads = downloadsRoot(work)])
  try {
    const results = await runAll(settings, work, downloads)
    process.stdout.write(`${report(results)}\n`)
    return 0
  } finally {
    cleanUp()
  }
}

await runBench(main, progress)
