/**
 * The download engine a mirror uses, measured: evertorrent's own (appliance/download/), webtorrent
 * 2.x's download side, and python3-libtorrent as the reference, each downloading the same item from
 * a real `evertorrent serve` (run as its systemd unit runs it) over the loopback peer wire, one at a
 * time, the order turned each round. Each downloader runs in a process of its own; ours and
 * webtorrent's under the service unit's node flags and environment (the heap sizing a mirror inside
 * `serve` would have). Printed per run and as medians: seconds, MB/s, CPU seconds per GB, peak RSS
 * (the process's own maxRSS, or GNU time's for libtorrent), and whether the SHA-256 of the result is
 * the item's.
 *
 * Usage: see USAGE below (`--help`).
 */
import { existsSync } from 'node:fs'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { createInterface } from 'node:readline'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { parseTorrent } from '../appliance/metainfo/metainfo.js'
import { exitOf, spawnTracked } from '../test/helpers/child-process.js'
import { writePseudoRandomFile } from '../test/helpers/content.js'
import { sourcePath } from '../test/helpers/repo.js'
import { ServeProcess, serviceProcess } from '../test/helpers/serve-process.js'
import { sha256File } from '../test/interop/clients/sha256-tree.js'
import { torrentWithoutWebSeeds } from '../test/interop/clients/without-web-seeds.js'
import { benchScratch, runBench } from './bench-scratch.js'

const MiB = 1024 * 1024
const USAGE = `Usage: node dist/scripts/bench-fetch.js [--quick] [--rounds N] [--size MiB]
         [--webtorrent DIR | --no-webtorrent] [--no-libtorrent]
  --quick            256 MiB, one round
  --size MiB         the item's size (default 1024)
  --rounds N         rounds (default 2)
  --webtorrent DIR   webtorrent's package folder (default /tmp/wt-bench/node_modules/webtorrent,
                     e.g. from npm install --prefix /tmp/wt-bench webtorrent@2; it is not a dependency)`

function parsedArgs (): ReturnType<typeof parse> {
  try {
    return parse()
  } catch (error) {
    process.stderr.write(`bench-fetch: ${error instanceof Error ? error.message : String(error)}\n${USAGE}\n`)
    process.exit(1)
  }
}

function parse () {
  return parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      rounds: { type: 'string' },
      size: { type: 'string' },
      webtorrent: { type: 'string', default: '/tmp/wt-bench/node_modules/webtorrent' },
      'no-webtorrent': { type: 'boolean', default: false },
      'no-libtorrent': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false }
    }
  })
}

const { values } = parsedArgs()
const sizeBytes = Number(values.size ?? (values.quick === true ? 256 : 1024)) * MiB
const rounds = Number(values.rounds ?? (values.quick === true ? 1 : 2))

type EngineName = 'evertorrent' | 'webtorrent' | 'libtorrent'

interface Run {
  readonly engine: EngineName
  readonly round: number
  readonly seconds: number
  readonly cpuSeconds: number
  readonly peakRssBytes: number
  readonly correct: boolean
}

interface Job {
  readonly torrentPath: string
  readonly infoHash: string
  readonly peer: { readonly host: string, readonly port: number }
  readonly folder: string
}

function progress (message: string): void {
  process.stderr.write(`${message}\n`)
}

/** Runs a child, returns its last JSON line on stdout with its exit; `timeMs` the wall time of the whole process. */
async function runChild (command: string, args: readonly string[], env: Record<string, string> = {}): Promise<{ last: Record<string, unknown> | undefined, stderr: string, timeMs: number }> {
  const started = performance.now()
  const child = spawnTracked(command, args, { env: { ...process.env, ...env } })
  let stderr = ''
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => { stderr = (stderr + chunk).slice(-4000) })
  let last: Record<string, unknown> | undefined
  for await (const line of createInterface({ input: child.stdout! })) {
    if (line.startsWith('{')) last = JSON.parse(line) as Record<string, unknown>
  }
  await exitOf(child)
  return { last, stderr, timeMs: performance.now() - started }
}

const service = serviceProcess()
const nodeArgs = service.nodeFlags

async function withOurs (job: Job): Promise<Omit<Run, 'engine' | 'round' | 'correct'>> {
  const options = { infoHash: job.infoHash, torrentPath: job.torrentPath, peers: [job.peer], folder: job.folder, resumePath: `${job.folder}.resume` }
  const { last, stderr } = await runChild(process.execPath, [...nodeArgs, sourcePath('dist/test/download/download-child.js'), JSON.stringify(options)], service.env)
  if (last?.event !== 'done') throw new Error(`evertorrent's download failed: ${JSON.stringify(last)} ${stderr}`)
  return { seconds: last.seconds as number, cpuSeconds: last.cpuSeconds as number, peakRssBytes: (last.maxRssKiB as number) * 1024 }
}

async function withWebtorrent (job: Job): Promise<Omit<Run, 'engine' | 'round' | 'correct'>> {
  const options = { module: join(values.webtorrent!, 'index.js'), torrentPath: job.torrentPath, peer: `${job.peer.host}:${job.peer.port}`, folder: job.folder }
  const { last, stderr } = await runChild(process.execPath, [...nodeArgs, sourcePath('dist/scripts/fetch-with-webtorrent.js'), JSON.stringify(options)], service.env)
  if (last?.event !== 'done') throw new Error(`webtorrent's download failed: ${JSON.stringify(last)} ${stderr}`)
  return { seconds: last.seconds as number, cpuSeconds: last.cpuSeconds as number, peakRssBytes: (last.maxRssKiB as number) * 1024 }
}

async function withLibtorrent (job: Job): Promise<Omit<Run, 'engine' | 'round' | 'correct'>> {
  const script = sourcePath('test/helpers/lt_download.py')
  const { last, stderr, timeMs } = await runChild('/usr/bin/time', ['-f', 'TIME %M %U %S', '/usr/bin/python3', script, job.torrentPath, job.folder,
    '--peer', `${job.peer.host}:${job.peer.port}`, '--plaintext', '--no-web-seeds', '--timeout', '600'])
  const time = /TIME (\d+) ([\d.]+) ([\d.]+)/.exec(stderr)
  if (last?.event !== 'done' || last.ok !== true || time === null) throw new Error(`libtorrent's download failed: ${JSON.stringify(last)} ${stderr}`)
  return { seconds: typeof last.elapsed === 'number' ? last.elapsed : timeMs / 1000, cpuSeconds: Number(time[2]) + Number(time[3]), peakRssBytes: Number(time[1]) * 1024 }
}

/** Peak RSS of a node process (the service's flags) that only loads `module` and waits a moment: the part of a peak that is not the download's. */
async function loadedRss (module: string): Promise<number> {
  const code = `await import(${JSON.stringify(module)}); await new Promise((resolve) => setTimeout(resolve, 300)); console.log(JSON.stringify({ maxRssKiB: process.resourceUsage().maxRSS }))`
  const { last } = await runChild(process.execPath, [...nodeArgs, '--input-type=module', '-e', code], service.env)
  return (last?.maxRssKiB as number) * 1024
}

const ENGINES: Record<EngineName, (job: Job) => Promise<Omit<Run, 'engine' | 'round' | 'correct'>>> = {
  evertorrent: withOurs,
  webtorrent: withWebtorrent,
  libtorrent: withLibtorrent
}

function median (numbers: readonly number[]): number {
  const sorted = [...numbers].sort((a, b) => a - b)
  const middle = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

function row (cells: ReadonlyArray<string | number>): string {
  return cells.map((cell, index) => String(cell).padEnd(index === 0 ? 12 : 10)).join(' ')
}

async function main (): Promise<number> {
  if (values.help === true) {
    console.log(USAGE)
    return 0
  }
  const engines: EngineName[] = ['evertorrent']
  if (values['no-webtorrent'] !== true) {
    if (!existsSync(join(values.webtorrent!, 'index.js'))) throw new Error(`webtorrent is not at ${values.webtorrent!} (npm install --prefix /tmp/wt-bench webtorrent@2, or --no-webtorrent)`)
    engines.push('webtorrent')
  }
  if (values['no-libtorrent'] !== true) engines.push('libtorrent')
  const { work, cleanUp } = benchScratch('bench-fetch', progress)
  try {
    const library = join(work, 'library')
    await mkdir(library)
    progress(`writing the ${sizeBytes / MiB} MiB item`)
    await writePseudoRandomFile(join(library, 'item.bin'), sizeBytes, 'bench-fetch')
    const expected = await sha256File(join(library, 'item.bin'))
    const serve = await ServeProcess.run({ libraries: [library], stateDir: join(work, 'state'), asService: true })
    try {
      progress('evertorrent serve: hashing the item')
      const published = await serve.waitFor((line) => line.msg === 'published', 600_000)
      const torrentPath = join(work, 'item.torrent')
      const torrent = torrentWithoutWebSeeds(await readFile(published.torrent!))
      await writeFile(torrentPath, torrent)
      const metainfo = parseTorrent(torrent)
      progress(`item: ${metainfo.pieceCount} pieces of ${metainfo.pieceLength / 1024} KiB`)
      const runs: Run[] = []
      for (let round = 0; round < rounds; round++) {
        const order = engines.map((_, index) => engines[(index + round) % engines.length]!)
        for (const engine of order) {
          const folder = join(work, `out-${engine}`)
          await rm(folder, { recursive: true, force: true })
          await rm(`${folder}.resume`, { force: true })
          await mkdir(folder)
          progress(`round ${round + 1}: ${engine}`)
          const measured = await ENGINES[engine]({ torrentPath, infoHash: metainfo.infoHash, peer: { host: '127.0.0.1', port: serve.peerPort }, folder })
          const correct = await sha256File(join(folder, 'item.bin')) === expected
          runs.push({ engine, round, ...measured, correct })
          await rm(folder, { recursive: true, force: true })
        }
      }
      const loaded = [`${((await loadedRss(sourcePath('dist/appliance/download/download.js'))) / MiB).toFixed(0)} MiB`]
      report(runs)
      console.log(`\npeak RSS of node (service flags) that loads evertorrent's engine and downloads nothing: ${loaded.join(', ')}`)
      if (engines.includes('libtorrent')) console.log('libtorrent 2.0 reads and writes through mmap: its RSS counts the mapped file pages it touched')
      return runs.every((run) => run.correct) ? 0 : 1
    } finally {
      await serve.stop()
    }
  } finally {
    cleanUp()
  }
}

function report (runs: readonly Run[]): void {
  const GB = sizeBytes / 1e9
  console.log(`\n${sizeBytes / MiB} MiB from evertorrent serve on loopback, ${rounds} round(s), order turned each round\n`)
  console.log(row(['engine', 'round', 'seconds', 'MB/s', 'CPU s/GB', 'peak RSS', 'sha256']))
  for (const run of runs) {
    console.log(row([run.engine, run.round + 1, run.seconds.toFixed(1), (sizeBytes / 1e6 / run.seconds).toFixed(1), (run.cpuSeconds / GB).toFixed(1), `${(run.peakRssBytes / MiB).toFixed(0)} MiB`, run.correct ? 'ok' : 'WRONG']))
  }
  console.log('\nmedians, and ratios to evertorrent\'s engine')
  console.log(row(['engine', 'MB/s', 'CPU s/GB', 'peak RSS', 'MB/s ×', 'CPU ×', 'RSS ×', 'all right']))
  const ours = runs.filter((run) => run.engine === 'evertorrent')
  const base = { speed: median(ours.map((run) => sizeBytes / 1e6 / run.seconds)), cpu: median(ours.map((run) => run.cpuSeconds / GB)), rss: median(ours.map((run) => run.peakRssBytes)) }
  for (const engine of new Set(runs.map((run) => run.engine))) {
    const mine = runs.filter((run) => run.engine === engine)
    const speed = median(mine.map((run) => sizeBytes / 1e6 / run.seconds))
    const cpu = median(mine.map((run) => run.cpuSeconds / GB))
    const rss = median(mine.map((run) => run.peakRssBytes))
    console.log(row([engine, speed.toFixed(1), cpu.toFixed(1), `${(rss / MiB).toFixed(0)} MiB`, (speed / base.speed).toFixed(2), (cpu / base.cpu).toFixed(2), (rss / base.rss).toFixed(2), mine.every((run) => run.correct) ? 'yes' : 'NO']))
  }
}

await runBench(main, progress)
