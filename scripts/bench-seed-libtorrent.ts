/**
 * `node dist/scripts/bench-seed-libtorrent.js`: the everseed against libtorrent in seed mode, on the
 * peer wire only. One item is seeded by `evertorrent serve` (run as its systemd unit runs it) and by a
 * libtorrent seed (lt_seed.py, seed_mode) of the same file, both running all along; in every round,
 * for each downloader count, N python3-libtorrent downloaders (lt_download.py) fetch the item from one
 * seeder, then from the other (the order alternates round by round). The downloaders get the .torrent
 * without web seeds and without trackers and are given the seeder's address, each listening on an
 * address of its own (127.0.0.2, …). Plaintext both ways: MSE/PE is off in the downloaders and in the
 * libtorrent seed, and evertorrent (`prefer`) answers a plaintext handshake in plaintext.
 *
 * Printed per run and as medians: MB/s (all downloaders together: the item's bytes times N over the
 * longest download), the seeder's CPU seconds per GB sent (/proc), its peak RSS (VmHWM, reset before
 * each run) and its peak anonymous RSS (RssAnon, sampled every 50 ms: libtorrent maps the file, so
 * its VmHWM counts the page cache it touched), and the ratios evertorrent / libtorrent.
 *
 * libtorrent's seed_mode hashes each piece the first time it is asked for, so its first run pays for
 * hashing the item once; the median over rounds is the steady state. The downloaders write to
 * /dev/shm when it is there.
 *
 * `--baseline-cli PATH` adds a second evertorrent (another build, e.g. the last release's), seeding
 * from a state of its own, to the same rounds: a change is measured against what it replaces under the
 * same load.
 *
 * To see where evertorrent's CPU goes: `--cpu-prof DIR` runs the seeding serve under `node --cpu-prof`,
 * which writes a .cpuprofile into DIR when it stops (e.g. `--rounds 1 --downloaders 4 --cpu-prof /tmp/prof`).
 *
 * Usage: node dist/scripts/bench-seed-libtorrent.js [--rounds N] [--size MiB] [--downloaders 1,4] [--quick] [--cpu-prof DIR] [--cli PATH] [--baseline-cli PATH]
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { cpus, loadavg } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { encodeTorrent, parseTorrent } from '../appliance/metainfo/metainfo.js'
import { benchScratch, runBench } from './bench-scratch.js'
import { writePseudoRandomFile } from '../test/helpers/content.js'
import { cpuSecondsOf, memoryOf, resetPeak } from '../test/helpers/proc.js'
import { cliPath } from '../test/helpers/repo.js'
import { ServeProcess } from '../test/helpers/serve-process.js'
import { startLibtorrentSeed } from '../test/interop/clients/libtorrent-seed.js'
import { ltDownload } from '../test/seeder/lt-download.js'
import { publishedLines, startServe } from './bench-serve-seeders.js'

const MiB = 1024 * 1024
const MB = 1e6
const GB = 1e9

const USAGE = `Usage: node dist/scripts/bench-seed-libtorrent.js [options]

Options:
  --rounds N            rounds; each runs every downloader count against both seeders (default: 3)
  --size MiB            the item's size (default: 1024)
  --downloaders LIST    downloader counts, comma-separated (default: 1,4)
  --quick               smoke run: 1 round of 256 MiB
  --encryption MODE     plaintext: MSE/PE off in the downloaders and the libtorrent seed (default);
                        default: libtorrent's own defaults there (pe_enabled, both levels offered)
  --cpu-prof DIR        run the seeding serve under node --cpu-prof, its profile written into DIR
  --cli PATH            the evertorrent CLI to measure (default: dist/appliance/cli.js of this build)
  --baseline-cli PATH   another evertorrent CLI measured in the same rounds ("evertorrent-baseline")
  -h, --help            this help`

type SeederName = 'evertorrent' | 'evertorrent-baseline' | 'libtorrent'

interface Settings {
  readonly rounds: number
  readonly bytes: number
  readonly downloaders: readonly number[]
  readonly cli: string
  readonly baselineCli: string | undefined
  readonly cpuProfileDir: string | undefined
  /** MSE/PE off in the libtorrent processes; else their defaults. */
  readonly plaintext: boolean
}

interface SeederUnderTest {
  readonly name: SeederName
  readonly pid: number
  readonly port: number
  /** How many of its peers speak MSE with RC4 now, where it tells (evertorrent's /metrics). */
  readonly encryptedPeers?: () => Promise<number>
}

interface Run {
  readonly seeder: SeederName
  readonly round: number
  readonly downloaders: number
  readonly mbps: number
  readonly cpuPerGb: number
  readonly peakRssBytes: number
  readonly peakAnonBytes: number
  /** The most peers seen on RC4 at once (sampled every 2 s: /metrics costs the seeder a little), where the seeder tells. */
  readonly encryptedPeers: number | undefined
}

/** RssAnon of `pid` in bytes: the resident memory that is not a mapped file. */
function anonymousRssOf (pid: number): number {
  const match = /^RssAnon:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return match === null ? 0 : Number(match[1]) * 1024
}

async function downloadFrom (seeder: SeederUnderTest, count: number, round: number, torrentFile: string, settings: Settings, downloads: string): Promise<Run> {
  const { bytes } = settings
  const dirs = Array.from({ length: count }, (_, index) => join(downloads, `${seeder.name}-${round}-${count}-${index}`))
  await Promise.all(dirs.map(async (dir) => await mkdir(dir, { recursive: true })))
  if (!resetPeak(seeder.pid)) throw new Error(`cannot reset the peak RSS of ${seeder.name} (/proc/${seeder.pid}/clear_refs)`)
  let peakAnonBytes = anonymousRssOf(seeder.pid)
  const sampler = setInterval(() => { peakAnonBytes = Math.max(peakAnonBytes, anonymousRssOf(seeder.pid)) }, 50)
  let encryptedPeers: number | undefined
  const encryptionSampler = setInterval(() => {
    void seeder.encryptedPeers?.().then((count) => { encryptedPeers = Math.max(encryptedPeers ?? 0, count) }, () => {})
  }, 2000)
  const cpuBefore = cpuSecondsOf(seeder.pid)
  try {
    const results = await Promise.all(dirs.map(async (dir, index) =>
      await ltDownload(torrentFile, dir, [`127.0.0.1:${seeder.port}`], 600, [...(settings.plaintext ? ['--plaintext'] : []), '--listen', `127.0.0.${index + 2}`])))
    const cpuSeconds = cpuSecondsOf(seeder.pid) - cpuBefore
    const failed = results.find((result) => !result.ok || result.hash_failures > 0 || result.total_size !== bytes)
    if (failed !== undefined) throw new Error(`a download from ${seeder.name} failed: ${JSON.stringify(failed)}`)
    const seconds = Math.max(...results.map((result) => result.seconds))
    return {
      seeder: seeder.name,
      round,
      downloaders: count,
      mbps: bytes * count / MB / seconds,
      cpuPerGb: cpuSeconds / (bytes * count / GB),
      peakRssBytes: memoryOf(seeder.pid).peakBytes,
      peakAnonBytes,
      encryptedPeers
    }
  } finally {
    clearInterval(sampler)
    clearInterval(encryptionSampler)
    await Promise.all(dirs.map(async (dir) => await rm(dir, { recursive: true, force: true })))
  }
}

function median (values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

const mb = (bytes: number): string => (bytes / MB).toFixed(1)

function describe (run: Run): string {
  return `round ${run.round}, ${run.downloaders} downloader(s), ${run.seeder.padEnd(20)}: ${run.mbps.toFixed(1).padStart(6)} MB/s, ` +
    `${run.cpuPerGb.toFixed(2)} CPU s/GB, peak RSS ${mb(run.peakRssBytes)} MB (anonymous ${mb(run.peakAnonBytes)} MB)` +
    (run.encryptedPeers === undefined ? '' : `, ${run.encryptedPeers} peer(s) on RC4`)
}

function table (runs: readonly Run[], settings: Settings): string {
  const lines = [
    `| downloaders | seeder | MB/s | CPU s per GB | peak RSS MB | peak anon RSS MB |`,
    '|---|---|---|---|---|---|'
  ]
  const ratios: string[] = []
  for (const count of settings.downloaders) {
    const of = (name: SeederName): Run[] => runs.filter((run) => run.downloaders === count && run.seeder === name)
    const medians = (name: SeederName): { mbps: number, cpu: number, rss: number, anon: number } => {
      const own = of(name)
      return { mbps: median(own.map((run) => run.mbps)), cpu: median(own.map((run) => run.cpuPerGb)), rss: Math.max(...own.map((run) => run.peakRssBytes)), anon: Math.max(...own.map((run) => run.peakAnonBytes)) }
    }
    const ever = medians('evertorrent')
    const lt = medians('libtorrent')
    const baseline = settings.baselineCli === undefined ? undefined : medians('evertorrent-baseline')
    type Medians = typeof ever
    const rows: Array<[string, Medians]> = [['evertorrent', ever], ...(baseline === undefined ? [] : [['evertorrent-baseline', baseline] as [string, Medians]]), ['libtorrent seed_mode', lt]]
    for (const [name, m] of rows) {
      lines.push(`| ${count} | ${name} | ${m.mbps.toFixed(1)} | ${m.cpu.toFixed(2)} | ${mb(m.rss)} | ${mb(m.anon)} |`)
    }
    ratios.push(`${count} downloader(s): throughput ${(ever.mbps / lt.mbps).toFixed(2)}× libtorrent's (goal ≥ 0.8×), CPU per GB ${(ever.cpu / lt.cpu).toFixed(2)}× (goal ≤ 1.3×), evertorrent peak RSS ${mb(ever.rss)} MB (goal ≤ 100)`)
    if (baseline !== undefined) {
      ratios.push(`${count} downloader(s), the baseline: throughput ${(baseline.mbps / lt.mbps).toFixed(2)}× libtorrent's, CPU per GB ${(baseline.cpu / lt.cpu).toFixed(2)}×; evertorrent / baseline: throughput ${(ever.mbps / baseline.mbps).toFixed(2)}×, CPU per GB ${(ever.cpu / baseline.cpu).toFixed(2)}×`)
    }
  }
  return [...lines, '', ...ratios].join('\n')
}

function parseSettings (): Settings | undefined {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string' },
      size: { type: 'string' },
      downloaders: { type: 'string' },
      quick: { type: 'boolean' },
      cli: { type: 'string' },
      'baseline-cli': { type: 'string' },
      'cpu-prof': { type: 'string' },
      encryption: { type: 'string' },
      help: { type: 'boolean', short: 'h' }
    }
  })
  if (values.help === true) return undefined
  const whole = (option: string, text: string): number => {
    if (!/^[1-9]\d*$/.test(text)) throw new Error(`${option} expects a positive whole number, not "${text}"`)
    return Number(text)
  }
  const quick = values.quick === true
  const encryption = values.encryption ?? 'plaintext'
  if (encryption !== 'plaintext' && encryption !== 'default') throw new Error(`--encryption expects plaintext or default, not "${encryption}"`)
  const downloaders = (values.downloaders ?? '1,4').split(',').map((text) => whole('--downloaders', text.trim()))
  if (downloaders.some((count) => count > 200)) throw new Error('--downloaders: at most 200 (one loopback address each)')
  return {
    rounds: values.rounds !== undefined ? whole('--rounds', values.rounds) : quick ? 1 : 3,
    bytes: (values.size !== undefined ? whole('--size', values.size) : quick ? 256 : 1024) * MiB,
    downloaders,
    cli: values.cli ?? cliPath,
    baselineCli: values['baseline-cli'] !== undefined ? resolve(values['baseline-cli']) : undefined,
    cpuProfileDir: values['cpu-prof'] !== undefined ? resolve(values['cpu-prof']) : undefined,
    plaintext: encryption === 'plaintext'
  }
}

/** Downloads go to memory when /dev/shm is there, so writeback of gigabytes does not disturb the seeders. */
function downloadsRoot (work: string): string {
  try {
    return mkdtempSync('/dev/shm/evertorrent-bench-seed-')
  } catch {
    return join(work, 'downloads')
  }
}

/** `evertorrent_peers_by_encryption{encryption="rc4"}` from serve's /metrics. */
async function rc4Peers (httpPort: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text()
  return Number(/^evertorrent_peers_by_encryption\{encryption="rc4"\} (\d+)/m.exec(text)?.[1] ?? 0)
}

function progress (message: string): void {
  process.stderr.write(`bench-seed-libtorrent: ${message}\n`)
}

/**
 * `evertorrent serve` of `cli` seeding `library`: it hashes the item, and is started again on the same
 * state, as on a box that has been running (the hashing threads of a first publish live on for a
 * while); resolves with it and the item's .torrent.
 */
async function seedingServe (cli: string, library: string, stateDir: string, cpuProfileDir: string | undefined): Promise<{ serve: ServeProcess, torrent: string }> {
  const hashing = await startServe({ cli, libraries: [library], stateDir })
  progress(`${cli}: hashing the item`)
  const [published] = await publishedLines(hashing, 1, 600_000).finally(async () => await hashing.stop())
  const profile = cpuProfileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${cpuProfileDir}`]
  const serve = await ServeProcess.run({
    cli,
    libraries: [library],
    stateDir,
    asService: true,
    ...(profile.length > 0 && { wrap: ([node, ...args]) => [node!, ...profile, ...args] })
  })
  try {
    await publishedLines(serve, 1, 60_000)
  } catch (error) {
    await serve.stop()
    throw error
  }
  return { serve, torrent: published!.line.torrent! }
}

function evertorrentSeeder (name: SeederName, serve: ServeProcess): SeederUnderTest {
  return { name, pid: serve.pid, port: serve.peerPort, encryptedPeers: async () => await rc4Peers(serve.httpPort) }
}

async function measure (settings: Settings, work: string, downloads: string): Promise<Run[]> {
  const library = join(work, 'library')
  await mkdir(library, { recursive: true })
  progress(`writing the ${settings.bytes / MiB} MiB item`)
  await writePseudoRandomFile(join(library, 'big.bin'), settings.bytes, 'bench-seed-libtorrent')
  const serves: ServeProcess[] = []
  try {
    const { serve, torrent } = await seedingServe(settings.cli, library, join(work, 'state'), settings.cpuProfileDir)
    serves.push(serve)
    const seeders = [evertorrentSeeder('evertorrent', serve)]
    if (settings.baselineCli !== undefined) {
      const baseline = await seedingServe(settings.baselineCli, library, join(work, 'state-baseline'), undefined)
      serves.push(baseline.serve)
      seeders.push(evertorrentSeeder('evertorrent-baseline', baseline.serve))
    }
    // The downloaders reach the seeder they are given, and nothing else.
    const torrentFile = join(work, 'big.torrent')
    await writeFile(torrentFile, encodeTorrent({ ...parseTorrent(await readFile(torrent)), announceList: [], urlList: [] }))
    const seed = await startLibtorrentSeed([{ torrentFile, saveDir: library }], { seedMode: true, plaintext: settings.plaintext })
    try {
      seeders.push({ name: 'libtorrent', pid: seed.pid, port: seed.port })
      const runs: Run[] = []
      for (let round = 1; round <= settings.rounds; round++) {
        for (const count of settings.downloaders) {
          const order = round % 2 === 1 ? seeders : [...seeders].reverse()
          for (const seeder of order) {
            const run = await downloadFrom(seeder, count, round, torrentFile, settings, downloads)
            runs.push(run)
            process.stdout.write(`${describe(run)}\n`)
          }
        }
      }
      for (const each of serves) {
        const problems = each.lines.filter((line) => line.level === 'warn' || line.level === 'error')
        for (const line of problems) progress(`evertorrent logged: ${JSON.stringify(line)}`)
      }
      return runs
    } finally {
      await seed.close()
    }
  } finally {
    for (const each of serves) await each.stop()
  }
}

async function main (): Promise<number> {
  const settings = parseSettings()
  if (settings === undefined) {
    process.stdout.write(`${USAGE}\n`)
    return 0
  }
  if (!existsSync(settings.cli)) throw new Error(`${settings.cli} is missing: build first (npx tsc -p .)`)
  let downloads = ''
  const { work, cleanUp } = benchScratch('bench-seed', progress, (work) => [downloads = downloadsRoot(work)])
  try {
    const loadBefore = loadavg()[0]!
    const runs = await measure(settings, work, downloads)
    process.stdout.write(`\n${settings.bytes / MiB} MiB over loopback, ${settings.plaintext ? 'plaintext' : 'libtorrent\'s default encryption settings'}, ${settings.rounds} round(s) alternated, medians; ` +
      `${cpus().length} × ${cpus()[0]?.model ?? '?'}, load average ${loadBefore.toFixed(2)} before, ${loadavg()[0]!.toFixed(2)} after\n\n`)
    process.stdout.write(`${table(runs, settings)}\n`)
    return 0
  } finally {
    cleanUp()
  }
}

await runBench(main, progress)
