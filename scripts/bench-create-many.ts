/**
 * `npm run bench:create-many`: `evertorrent create` on many small files (100,000 of 1–4 KiB, 64 KiB
 * pieces), side by side with transmission-create and mktorrent, the tools taking turns in each round;
 * then the memory `evertorrent serve` needs with that folder published, against serve with an empty
 * library, both as the systemd unit runs it (resumed, after a first publish that is not measured).
 * Prints wall time and peak RSS of every run, the medians and the ratios; and the infohashes, which
 * must agree between evertorrent and mktorrent.
 *
 * Usage: node dist/scripts/bench-create-many.js [--files N] [--rounds N] [--threads N] [--settle S] [--quick] [--no-serve] [--no-create]
 */
import { readFileSync, rmSync } from 'node:fs'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { availableParallelism, cpus, loadavg } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { parseTorrent } from '../appliance/metainfo/metainfo.js'
import { benchScratch, runBench } from './bench-scratch.js'
import { pseudoRandomStream, seededRandom } from '../test/helpers/content.js'
import { memoryOf } from '../test/helpers/proc.js'
import { runOk } from '../test/helpers/run.js'
import { ServeProcess } from '../test/helpers/serve-process.js'

const KiB = 1024
const MB = 1e6
const PIECE_LENGTH = 64 * KiB
const CLI = fileURLToPath(new URL('../appliance/cli.js', import.meta.url))

const USAGE = `Usage: node dist/scripts/bench-create-many.js [options]

Options:
  --files N     how many files of 1–4 KiB, 100 to a folder (default: 100000)
  --rounds N    rounds; each tool runs once per round, in turn (default: 3)
  --threads N   hashing threads for evertorrent and mktorrent (default: one per core)
  --settle S    seconds serve runs before its RSS is read (default: 10)
  --quick       10,000 files, one round, 3 s settle
  --no-serve    only the create tools
  --no-create   only serve
  -h, --help    this help`

interface Settings {
  readonly files: number
  readonly rounds: number
  readonly threads: number
  readonly settleSeconds: number
  readonly serve: boolean
  readonly create: boolean
}

type ToolName = 'evertorrent' | 'transmission-create' | 'mktorrent'

interface Tool {
  readonly name: ToolName
  readonly command: (input: string, output: string, settings: Settings) => string[]
}

const TOOLS: readonly Tool[] = [
  { name: 'evertorrent', command: (input, output, { threads }) => [process.execPath, CLI, 'create', input, '-o', output, '-l', String(PIECE_LENGTH), '-t', String(threads), '-q', '-f'] },
  { name: 'transmission-create', command: (input, output) => ['transmission-create', '-s', String(PIECE_LENGTH / KiB), '-o', output, input] },
  { name: 'mktorrent', command: (input, output, { threads }) => ['mktorrent', '-t', String(threads), '-l', String(Math.log2(PIECE_LENGTH)), '-o', output, input] }
]

interface Run {
  readonly tool: ToolName
  readonly round: number
  readonly seconds: number
  readonly peakRssKiB: number
  readonly infoHash: string
}

function progress (message: string): void {
  process.stderr.write(`bench-create-many: ${message}\n`)
}

/** `count` files of 1–4 KiB, 100 to a folder; names sort the same in every tool. Returns the total size. */
async function writeManyFiles (root: string, count: number): Promise<number> {
  const random = seededRandom(100_000)
  const next = pseudoRandomStream('bench-create-many')
  let total = 0
  for (let index = 0; index < count; index++) {
    const folder = join(root, `dir-${String(Math.floor(index / 100)).padStart(4, '0')}`)
    if (index % 100 === 0) await mkdir(folder, { recursive: true })
    const bytes = KiB + Math.floor(random() * (3 * KiB + 1))
    await writeFile(join(folder, `file-${String(index).padStart(6, '0')}.bin`), next(bytes))
    total += bytes
  }
  return total
}

/** Wall time (here) and peak RSS (GNU time's %M, in KiB) of one command. */
async function measure (tool: Tool, input: string, work: string, settings: Settings, round: number): Promise<Run> {
  const output = join(work, `${tool.name}.torrent`)
  const timeFile = join(work, 'time.txt')
  rmSync(output, { force: true }) // mktorrent will not overwrite
  const started = performance.now()
  await runOk('/usr/bin/time', ['-f', '%M', '-o', timeFile, ...tool.command(input, output, settings)], { detached: true })
  const seconds = (performance.now() - started) / 1000
  const peakRssKiB = Number((await readFile(timeFile, 'utf8')).trim().split(/\s+/).at(-1))
  return { tool: tool.name, round, seconds, peakRssKiB, infoHash: parseTorrent(readFileSync(output)).infoHash }
}

function median (values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

interface ServeRun {
  readonly label: string
  readonly rssBytes: number
  readonly peakBytes: number
}

/** serve as the unit runs it, on `libraries`; RSS read `settleSeconds` after `publishedCount` items are published. */
async function runServe (label: string, libraries: string[], stateDir: string, publishedCount: number, settings: Settings): Promise<ServeRun> {
  const serve = await ServeProcess.run({ libraries, stateDir, asService: true })
  try {
    if (publishedCount > 0) await serve.waitForCount((line) => line.msg === 'published', publishedCount, 600_000)
    await new Promise((resolve) => setTimeout(resolve, settings.settleSeconds * 1000))
    const memory = memoryOf(serve.pid)
    const problems = serve.lines.filter((line) => line.level === 'warn' || line.level === 'error')
    if (problems.length > 0) progress(`${label}: ${problems.map((line) => JSON.stringify(line)).join('\n')}`)
    progress(`serve, ${label}: RSS ${(memory.rssBytes / MB).toFixed(1)} MB, peak ${(memory.peakBytes / MB).toFixed(1)} MB`)
    return { label, ...memory }
  } finally {
    await serve.stop()
  }
}

async function benchServe (work: string, item: string, settings: Settings): Promise<ServeRun[]> {
  const stateDir = join(work, 'state')
  const empty = join(work, 'empty-library')
  await mkdir(empty)
  const library = join(item, '..')
  progress('serve: first publish of the folder (hashing, not measured)')
  const first = await runServe('first publish (hashing)', [library], stateDir, 1, { ...settings, settleSeconds: 0 })
  const runs: ServeRun[] = [first]
  for (let round = 1; round <= settings.rounds; round++) {
    runs.push(await runServe('empty library', [empty], stateDir, 0, settings))
    runs.push(await runServe('the folder published (resumed)', [library], stateDir, 1, settings))
  }
  return runs
}

function report (settings: Settings, totalBytes: number, runs: readonly Run[], serveRuns: readonly ServeRun[], load: readonly number[]): string {
  return [...(runs.length > 0 ? [createReport(settings, totalBytes, runs, load)] : []), ...(serveRuns.length > 0 ? [serveReport(settings, serveRuns)] : [])].join('\n\n')
}

function createReport (settings: Settings, totalBytes: number, runs: readonly Run[], load: readonly number[]): string {
  const byTool = (name: ToolName): Run[] => runs.filter((run) => run.tool === name)
  const medians = new Map(TOOLS.map((tool) => [tool.name, {
    seconds: median(byTool(tool.name).map((run) => run.seconds)),
    peakKiB: median(byTool(tool.name).map((run) => run.peakRssKiB))
  }]))
  const ever = medians.get('evertorrent')!
  const lines = [
    `### evertorrent create on ${settings.files.toLocaleString('en-US')} files of 1–4 KiB (${(totalBytes / MB).toFixed(0)} MB, 64 KiB pieces, cached, ${settings.threads} threads)`,
    '',
    `${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} cores, Node ${process.version}; load average ${load[0]!.toFixed(2)} before, ${load[1]!.toFixed(2)} after. ` +
      `${settings.rounds} round(s), the tools in turn within each; medians. Ratios: evertorrent ÷ the tool (time below 1: evertorrent is faster).`,
    '',
    '| tool | wall time (s) | peak RSS (MiB) | time ratio | RSS ratio |',
    '|---|--:|--:|--:|--:|',
    ...TOOLS.map((tool) => {
      const mine = medians.get(tool.name)!
      return `| ${tool.name} | ${mine.seconds.toFixed(2)} | ${(mine.peakKiB / 1024).toFixed(1)} | ${(ever.seconds / mine.seconds).toFixed(2)}× | ${(ever.peakKiB / mine.peakKiB).toFixed(2)}× |`
    }),
    '',
    `Goal: evertorrent's peak RSS < 64 MiB (${ever.peakKiB / 1024 < 64 ? 'met' : 'not met'}), time ≤ transmission-create's (${ever.seconds <= medians.get('transmission-create')!.seconds ? 'met' : 'not met'}).`,
    '',
    'Every run:',
    '',
    '```',
    ...runs.map((run) => `round ${run.round}  ${run.tool.padEnd(20)} ${run.seconds.toFixed(3).padStart(8)} s ${String(run.peakRssKiB).padStart(8)} KiB  ${run.infoHash}`),
    '```'
  ]
  const hashes = (name: ToolName): Set<string> => new Set(byTool(name).map((run) => run.infoHash))
  const agree = hashes('evertorrent').size === 1 && [...hashes('evertorrent')][0] === [...hashes('mktorrent')][0] && hashes('mktorrent').size === 1
  lines.push('', `Infohashes: evertorrent and mktorrent ${agree ? 'agree on every run' : '**differ**'}; transmission-create: ${[...hashes('transmission-create')].join(', ')}.`)
  return lines.join('\n')
}

function serveReport (settings: Settings, serveRuns: readonly ServeRun[]): string {
  const lines: string[] = []
  {
    const empty = median(serveRuns.filter((run) => run.label === 'empty library').map((run) => run.rssBytes))
    const full = median(serveRuns.filter((run) => run.label.startsWith('the folder')).map((run) => run.rssBytes))
    lines.push(
      `### evertorrent serve with the ${settings.files.toLocaleString('en-US')}-file folder published (as the unit runs it; RSS ${settings.settleSeconds} s after publishing)`,
      '',
      '| serve | RSS (MB) | peak RSS (MB) |',
      '|---|--:|--:|',
      ...serveRuns.map((run) => `| ${run.label} | ${(run.rssBytes / MB).toFixed(1)} | ${(run.peakBytes / MB).toFixed(1)} |`),
      '',
      `Added by the published folder (medians): **${((full - empty) / MB).toFixed(1)} MB** (goal ≤ 20 MB: ${full - empty <= 20 * MB ? 'met' : 'not met'}).`
    )
  }
  return lines.join('\n')
}

function parseSettings (): Settings | undefined {
  const { values } = parseArgs({
    options: {
      files: { type: 'string' },
      rounds: { type: 'string' },
      threads: { type: 'string' },
      settle: { type: 'string' },
      quick: { type: 'boolean' },
      'no-serve': { type: 'boolean' },
      'no-create': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' }
    }
  })
  if (values.help === true) return undefined
  const positive = (text: string | undefined, fallback: number, option: string): number => {
    if (text === undefined) return fallback
    if (!/^\d+$/.test(text)) throw new Error(`${option} expects a whole number, not "${text}"`)
    return Number(text)
  }
  const quick = values.quick === true
  return {
    files: positive(values.files, quick ? 10_000 : 100_000, '--files'),
    rounds: positive(values.rounds, quick ? 1 : 3, '--rounds'),
    threads: positive(values.threads, availableParallelism(), '--threads'),
    settleSeconds: positive(values.settle, quick ? 3 : 10, '--settle'),
    serve: values['no-serve'] !== true,
    create: values['no-create'] !== true
  }
}

async function main (): Promise<number> {
  const settings = parseSettings()
  if (settings === undefined) {
    process.stdout.write(`${USAGE}\n`)
    return 0
  }
  const { work, cleanUp } = benchScratch('bench-many', progress)
  try {
    const item = join(work, 'library', 'many-files')
    progress(`writing ${settings.files} files in ${item}`)
    const totalBytes = await writeManyFiles(item, settings.files)
    const loadBefore = loadavg()[0]!
    const runs: Run[] = []
    // The first round of the first tool would otherwise read from disk what the others read from memory.
    if (settings.create) await measure(TOOLS[0]!, item, work, settings, 0)
    for (let round = 1; round <= settings.rounds && settings.create; round++) {
      for (const tool of TOOLS) {
        const run = await measure(tool, item, work, settings, round)
        runs.push(run)
        progress(`round ${round}: ${tool.name} ${run.seconds.toFixed(2)} s, ${(run.peakRssKiB / 1024).toFixed(1)} MiB`)
      }
    }
    const loadAfter = loadavg()[0]!
    const serveRuns = settings.serve ? await benchServe(work, item, settings) : []
    process.stdout.write(`${report(settings, totalBytes, runs, serveRuns, [loadBefore, loadAfter])}\n`)
    return 0
  } finally {
    cleanUp()
  }
}

await runBench(main, progress)
