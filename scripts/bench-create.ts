/**
 * `npm run bench:create`: how fast, and in how much memory, `evertorrent create` hashes cached data,
 * side by side with mktorrent and the npm package create-torrent, on the same data and piece length.
 * Prints a markdown table (for the README) and the raw numbers of every run.
 *
 * Usage: node dist/scripts/bench-create.js [--threads N] [--runs N] [--quick] [--cli PATH]
 */
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { rm, truncate, writeFile } from 'node:fs/promises'
import { availableParallelism, cpus, loadavg } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { parseTorrent } from '../appliance/metainfo/metainfo.js'
import { benchScratch, runBench } from './bench-scratch.js'
import { smallFilePath, warmUp, writeSmallFiles } from './bench-content.js'
import { measure, type Measurement } from './bench-measure.js'
import { writePseudoRandomFile } from '../test/helpers/content.js'
import { SYSTEM_PYTHON } from '../test/helpers/libtorrent.js'
import { runOk } from '../test/helpers/run.js'

const KiB = 1024
const MiB = 1024 * KiB
const GiB = 1024 * MiB
/** Throughput is in MB/s (10^6 bytes), the unit of `openssl speed`; memory is in MiB. */
const MB = 1e6

const USAGE = `Usage: node dist/scripts/bench-create.js [options]

Options:
  --threads N   hashing threads for evertorrent and mktorrent (default: one per core)
  --runs N      runs per tool and content; the best is reported (default: 3)
  --quick       small smoke run: 256 MiB file, 500 small files, 2 GiB sparse file, one run
  --cli PATH    the evertorrent CLI to measure (default: dist/appliance/cli.js of this build)
  -h, --help    this help`

const CREATE_TORRENT_RUNNER = fileURLToPath(new URL('./create-torrent-runner.js', import.meta.url))

type ToolName = 'evertorrent' | 'mktorrent' | 'create-torrent'

interface Settings {
  readonly threads: number
  readonly runs: number
  readonly quick: boolean
  readonly cli: string
}


interface Run extends Measurement {
  readonly tool: ToolName
  readonly infoHash: string
  readonly pieceLength: number
}

interface Content {
  readonly label: string
  readonly path: string
  readonly bytes: number
  /** Undefined: evertorrent picks it. */
  readonly pieceLength: number | undefined
}

interface Tool {
  readonly name: ToolName
  readonly command: (input: string, output: string, pieceLength: number | undefined, settings: Settings) => string[]
}

const EVERTORRENT: Tool = {
  name: 'evertorrent',
  command: (input, output, pieceLength, { threads, cli }) => [
    process.execPath, cli, 'create', input, '-o', output, '-t', String(threads), '-q', '-f',
    ...(pieceLength !== undefined ? ['-l', String(pieceLength)] : [])
  ]
}
const TOOLS: readonly Tool[] = [
  EVERTORRENT,
  {
    name: 'mktorrent',
    command: (input, output, pieceLength, { threads }) => ['mktorrent', '-t', String(threads), '-l', String(Math.log2(pieceLength!)), '-o', output, input]
  },
  {
    // No thread option: create-torrent hashes on its main thread.
    name: 'create-torrent',
    command: (input, output, pieceLength) => [process.execPath, CREATE_TORRENT_RUNNER, input, output, String(pieceLength)]
  }
]

// ---------------------------------------------------------------- child processes

async function capture (command: string, args: readonly string[]): Promise<string> {
  const { stdout, stderr } = await runOk(command, args, { detached: true })
  return stdout + stderr
}

// ---------------------------------------------------------------- content

// ---------------------------------------------------------------- measurements

/** Single-core SHA-1 throughput of OpenSSL on 16 KiB blocks, in bytes per second. */
async function opensslSha1 (): Promise<number> {
  const output = await capture('openssl', ['speed', '-evp', 'sha1', '-bytes', '16384', '-seconds', '3'])
  const lines = output.split('\n')
  const header = lines.find((line) => line.startsWith('type'))
  const row = lines.find((line) => /^sha1\s/.test(line))
  const columns = header?.replace(/^type\s+/, '').split(/\s{2,}/).map((column) => column.trim()) ?? []
  const value = row?.trim().split(/\s+/).slice(1)[columns.indexOf('16384 bytes')]
  if (value === undefined) throw new Error(`no 16384-byte column for sha1 in the output of openssl speed:\n${output}`)
  return Number.parseFloat(value) * 1000 // "The 'numbers' are in 1000s of bytes per second processed."
}

async function runTool (tool: Tool, content: Content, output: string, settings: Settings): Promise<Run> {
  rmSync(output, { force: true }) // mktorrent will not overwrite
  const measurement = await measure(tool.command(content.path, output, content.pieceLength, settings))
  const metainfo = parseTorrent(readFileSync(output))
  return { ...measurement, tool: tool.name, infoHash: metainfo.infoHash, pieceLength: metainfo.pieceLength }
}

/** The tools take turns within each round, so a busy moment of the machine does not fall on one tool only. */
async function benchmark (content: Content, tools: readonly Tool[], work: string, settings: Settings, runs: number): Promise<Run[]> {
  const results: Run[] = []
  for (let round = 1; round <= runs; round++) {
    for (const tool of tools) {
      const run = await runTool(tool, content, join(work, `${tool.name}.torrent`), settings)
      results.push(run)
      progress(`${content.label}: ${tool.name} run ${round}/${runs}: ${run.seconds.toFixed(2)} s, ${mbps(content.bytes, run.seconds)} MB/s, ${mib(run.peakRssKiB)} MiB`)
    }
  }
  return results
}

interface Results {
  readonly settings: Settings
  readonly sha1PerCore: number
  /** `openssl dgst -sha1` of the cached file, best of the runs: one core reading and hashing, the practical ceiling. */
  readonly fileDigest: Measurement
  readonly bareNode: readonly Measurement[]
  readonly file: Content
  readonly fileRuns: readonly Run[]
  readonly folder: Content
  readonly folderRuns: readonly Run[]
  readonly fileCount: number
  readonly sparse: Content
  readonly sparseRun: Run
  readonly loadBefore: number
  readonly loadAfter: number
  readonly seconds: number
}

async function runAll (settings: Settings, work: string): Promise<Results> {
  const started = performance.now()
  const loadBefore = loadavg()[0]!
  if (loadBefore > 0.5) progress(`warning: the load average is ${loadBefore.toFixed(2)}; other processes will slow the tools down`)
  const sizes = settings.quick
    ? { file: 256 * MiB, fileCount: 500, sparse: 2 * GiB }
    : { file: 2 * GiB, fileCount: 5000, sparse: 20 * GiB }

  progress('openssl speed -evp sha1 (3 s)')
  const sha1PerCore = await opensslSha1()
  const bareNode: Measurement[] = []
  for (let run = 0; run < 3; run++) bareNode.push(await measure([process.execPath, '-e', '']))

  progress(`writing a ${size(sizes.file)} file and ${sizes.fileCount} small files in ${work}`)
  const file: Content = { label: 'one file, random data', path: join(work, 'random.bin'), bytes: sizes.file, pieceLength: MiB }
  // Incompressible: no tool gains from repeated data.
  await writePseudoRandomFile(file.path, file.bytes, 'bench-create: one file')
  const folderPath = join(work, 'small-files')
  const folderBytes = await writeSmallFiles(folderPath, sizes.fileCount)
  const folder: Content = { label: `${sizes.fileCount.toLocaleString('en-US')} files of 1–64 KiB`, path: folderPath, bytes: folderBytes, pieceLength: 64 * KiB }
  progress('warm-up read')
  await warmUp([file.path, ...Array.from({ length: sizes.fileCount }, (_, index) => smallFilePath(folderPath, index))])
  const fileRuns = await benchmark(file, TOOLS, work, settings, settings.runs)
  const digests: Measurement[] = []
  for (let run = 0; run < settings.runs; run++) digests.push(await measure(['openssl', 'dgst', '-sha1', file.path]))
  const fileDigest = digests.reduce((best, run) => run.seconds < best.seconds ? run : best)
  const folderRuns = await benchmark(folder, TOOLS, work, settings, settings.runs)

  // Last, and with the rest deleted: the sparse file's holes fill the page cache with zeroes, which would
  // push the other content out (and the first read of a hole costs far more than a cached read).
  await rm(file.path)
  await rm(folderPath, { recursive: true })
  const sparse: Content = { label: 'sparse file', path: join(work, 'sparse.bin'), bytes: sizes.sparse, pieceLength: undefined }
  await writeFile(sparse.path, '')
  await truncate(sparse.path, sparse.bytes)
  progress(`warm-up read of the ${size(sizes.sparse)} sparse file`)
  await warmUp([sparse.path])
  const [sparseRun] = await benchmark(sparse, [EVERTORRENT], work, settings, 1)
  await rm(sparse.path)

  return {
    settings, sha1PerCore, fileDigest, bareNode, file, fileRuns, folder, folderRuns, fileCount: sizes.fileCount, sparse, sparseRun: sparseRun!,
    loadBefore, loadAfter: loadavg()[0]!, seconds: (performance.now() - started) / 1000
  }
}

// ---------------------------------------------------------------- report

interface Summary {
  readonly tool: ToolName
  readonly throughput: number
  readonly peakRssKiB: number
  readonly cpuSeconds: number
}

function median (values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

/**
 * The best wall time (other processes can only slow a run down), the median CPU time and the highest
 * peak RSS of all runs.
 */
function summarize (content: Content, runs: readonly Run[]): Summary[] {
  return [...new Set(runs.map((run) => run.tool))].map((tool) => {
    const mine = runs.filter((run) => run.tool === tool)
    return {
      tool,
      throughput: content.bytes / Math.min(...mine.map((run) => run.seconds)),
      peakRssKiB: Math.max(...mine.map((run) => run.peakRssKiB)),
      cpuSeconds: median(mine.map((run) => run.userSeconds + run.systemSeconds))
    }
  })
}

const thousands = (value: number): string => Math.round(value).toLocaleString('en-US')
const mbps = (bytes: number, seconds: number): string => thousands(bytes / seconds / MB)
const mib = (kib: number): string => (kib / 1024).toFixed(1)
const size = (bytes: number): string => bytes >= GiB ? `${+(bytes / GiB).toFixed(2)} GiB` : bytes >= MiB ? `${+(bytes / MiB).toFixed(1)} MiB` : `${bytes / KiB} KiB`

function tableRows (content: Content, summaries: readonly Summary[]): string[] {
  const rows = summaries.map((summary, index) => {
    const lead = index === 0 ? `| ${content.label} (${size(content.bytes)}) | ${size(content.pieceLength ?? 0)} ` : '| | '
    return `${lead}| ${summary.tool} | ${thousands(summary.throughput / MB)} | ${mib(summary.peakRssKiB)} | ${summary.cpuSeconds.toFixed(2)} |`
  })
  const ever = summaries.find((summary) => summary.tool === 'evertorrent')!
  for (const other of summaries.filter((summary) => summary !== ever)) {
    const ratio = (mine: number, theirs: number): string => `*${(mine / theirs).toFixed(2)}×*`
    rows.push(`| | | *evertorrent ÷ ${other.tool}* | ${ratio(ever.throughput, other.throughput)} | ${ratio(ever.peakRssKiB, other.peakRssKiB)} | ${ratio(ever.cpuSeconds, other.cpuSeconds)} |`)
  }
  return rows
}

/** Every run of every tool must give the same infohash; undefined when they do. */
function infoHashDisagreement (runs: readonly Run[]): string | undefined {
  if (new Set(runs.map((run) => run.infoHash)).size === 1) return undefined
  const byTool = new Map<ToolName, Set<string>>()
  for (const run of runs) byTool.set(run.tool, (byTool.get(run.tool) ?? new Set()).add(run.infoHash))
  return [...byTool].map(([tool, hashes]) => `${tool} ${[...hashes].join(' / ')}`).join(', ')
}

function infoHashLine (content: Content, runs: readonly Run[]): string {
  const disagreement = infoHashDisagreement(runs)
  return disagreement === undefined
    ? `${content.label} (${size(content.bytes)}): evertorrent, mktorrent and create-torrent agree, on every run (${runs[0]!.infoHash})`
    : `${content.label} (${size(content.bytes)}): **the infohashes differ**: ${disagreement}`
}

function rawLine (label: string, tool: string, piece: string, bytes: number | undefined, run: Measurement, infoHash = ''): string {
  return [
    label.padEnd(26), tool.padEnd(15), piece.padStart(9), run.seconds.toFixed(3).padStart(8),
    (bytes === undefined ? '-' : mbps(bytes, run.seconds)).padStart(7), String(run.peakRssKiB).padStart(9),
    run.userSeconds.toFixed(2).padStart(7), run.systemSeconds.toFixed(2).padStart(7), infoHash
  ].join('  ').trimEnd()
}

function report (results: Results): string {
  const { settings, sha1PerCore, fileDigest, bareNode, file, fileRuns, folder, folderRuns, sparse, sparseRun } = results
  const fileSummary = summarize(file, fileRuns)
  const everFile = fileSummary.find((summary) => summary.tool === 'evertorrent')!
  const ceiling = sha1PerCore * settings.threads
  const share = everFile.throughput / ceiling
  const mktorrentShare = fileSummary.find((summary) => summary.tool === 'mktorrent')!.throughput / ceiling
  const fileCeiling = (file.bytes / fileDigest.seconds) * settings.threads
  const sparseRssMiB = sparseRun.peakRssKiB / 1024
  const bareRssKiB = median(bareNode.map((run) => run.peakRssKiB))
  const rawRuns = (content: Content, runs: readonly Run[]): string[] =>
    runs.map((run) => rawLine(content.label, run.tool, String(run.pieceLength), content.bytes, run, run.infoHash))
  return [
    `### evertorrent create: speed and memory (${settings.threads} threads, cached data)`,
    '',
    `Cached data: everything is read once before the tools run. ${settings.threads} hashing threads for evertorrent and mktorrent ` +
      '(create-torrent has no such option and hashes on one thread); the same piece length for all three. ' +
      `Wall time of the whole command, start to exit: best of ${settings.runs} run${settings.runs === 1 ? '' : 's'}; CPU time (user + system): median; peak RSS: highest. ` +
      'MB = 10^6 bytes. Ratios above 1: evertorrent is faster, uses more memory, uses more CPU. ' +
      `${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} cores, Node ${process.version}.`,
    '',
    '| Content | Piece length | Tool | MB/s | Peak RSS (MiB) | CPU time (s) |',
    '|---|---|---|--:|--:|--:|',
    ...tableRows(file, fileSummary),
    ...tableRows(folder, summarize(folder, folderRuns)),
    '',
    `- **SHA-1 ceiling:** \`openssl speed -evp sha1\`, 16384-byte blocks: ${mbps(sha1PerCore, 1)} MB/s on one core × ${settings.threads} = ` +
      `${mbps(ceiling, 1)} MB/s. evertorrent on the ${size(file.bytes)} file: ${mbps(everFile.throughput, 1)} MB/s = ` +
      `**${(share * 100).toFixed(0)} %** of it (goal ≥ 85 %: ${share >= 0.85 ? 'met' : 'not met'}); mktorrent: ${(mktorrentShare * 100).toFixed(0)} %.`,
    `- **Reading and hashing a file:** \`openssl dgst -sha1\` of the cached ${size(file.bytes)} file (one core, start to exit, best of ${settings.runs}): ` +
      `${mbps(file.bytes, fileDigest.seconds)} MB/s × ${settings.threads} = ${mbps(fileCeiling, 1)} MB/s; evertorrent: **${(everFile.throughput / fileCeiling * 100).toFixed(0)} %** of it. ` +
      '`openssl speed` hashes one 16 KiB block that stays in the L1 cache; the bytes of a file come from the page cache through a copy, and hash slower.',
    `- **Bounded memory:** evertorrent on a ${size(sparse.bytes)} sparse file (\`truncate -s\`, cached; automatic piece length: ${size(sparseRun.pieceLength)}): ` +
      `peak RSS **${sparseRssMiB.toFixed(1)} MiB** (goal < 64 MiB: ${sparseRssMiB < 64 ? 'met' : 'not met'}), ` +
      `${mib(sparseRun.peakRssKiB - bareRssKiB)} MiB more than a bare node; ${mbps(sparse.bytes, sparseRun.seconds)} MB/s.`,
    `- **Baseline:** a bare \`node -e ''\` peaks at ${mib(bareRssKiB)} MiB RSS and takes ${(Math.min(...bareNode.map((run) => run.seconds)) * 1000).toFixed(0)} ms; ` +
      'evertorrent and create-torrent pay both.',
    `- **Infohashes** (mktorrent and evertorrent must agree; the content is made so that create-torrent must too):`,
    `  - ${infoHashLine(file, fileRuns)}`,
    `  - ${infoHashLine(folder, folderRuns)}`,
    `- **Machine load** (1-minute load average): ${results.loadBefore.toFixed(2)} before, ${results.loadAfter.toFixed(2)} after. Benchmark wall time: ${results.seconds.toFixed(0)} s.`,
    '',
    'Raw numbers, every run:',
    '',
    '```',
    `${'content'.padEnd(26)}  ${'tool'.padEnd(15)}  ${'piece'.padStart(9)}  ${'seconds'.padStart(8)}  ${'MB/s'.padStart(7)}  ${'RSS KiB'.padStart(9)}  ${'user s'.padStart(7)}  ${'sys s'.padStart(7)}  infohash`,
    ...rawRuns(file, fileRuns),
    ...rawRuns(folder, folderRuns),
    ...rawRuns(sparse, [sparseRun]),
    ...bareNode.map((run) => rawLine("node -e ''", 'node', '-', undefined, run)),
    `openssl speed -evp sha1, 16384-byte blocks, one core: ${(sha1PerCore / 1000).toFixed(2)}k bytes/s`,
    rawLine('one file, random data', 'openssl dgst', '-', file.bytes, fileDigest),
    `bytes: file ${file.bytes}; folder ${folder.bytes} in ${results.fileCount} files; sparse file ${sparse.bytes}`,
    '```'
  ].join('\n')
}

// ---------------------------------------------------------------- main

function progress (message: string): void {
  process.stderr.write(`bench-create: ${message}\n`)
}

function parseSettings (): Settings | undefined {
  const { values } = parseArgs({
    options: {
      threads: { type: 'string' },
      runs: { type: 'string' },
      quick: { type: 'boolean' },
      cli: { type: 'string' },
      help: { type: 'boolean', short: 'h' }
    }
  })
  if (values.help === true) return undefined
  const positive = (text: string | undefined, fallback: number, option: string): number => {
    if (text === undefined) return fallback
    if (!/^[1-9]\d*$/.test(text)) throw new Error(`${option} expects a positive whole number, not "${text}"`)
    return Number(text)
  }
  const quick = values.quick === true
  return {
    threads: positive(values.threads, availableParallelism(), '--threads'),
    runs: positive(values.runs, quick ? 1 : 3, '--runs'),
    quick,
    cli: values.cli ?? fileURLToPath(new URL('../appliance/cli.js', import.meta.url))
  }
}

/** Fails in a second, not after writing gigabytes. */
async function checkPrerequisites (settings: Settings): Promise<void> {
  for (const [path, hint] of [
    [SYSTEM_PYTHON, 'the system Python 3 runs the measurements'],
    ['/usr/bin/time', 'GNU time measures peak RSS (Debian package "time")'],
    ['/usr/bin/mktorrent', 'install it with scripts/install-test-deps.sh'],
    ['/usr/bin/openssl', 'install it with scripts/install-test-deps.sh'],
    [settings.cli, 'build first: npx tsc -p .'],
    [CREATE_TORRENT_RUNNER, 'build first: npx tsc -p .']
  ] as const) {
    if (!existsSync(path)) throw new Error(`${path} is missing: ${hint}`)
  }
  try {
    await capture(process.execPath, [settings.cli, '--version'])
  } catch (error) {
    throw new Error(`the evertorrent CLI does not start: ${error instanceof Error ? error.message : String(error)}`)
  }
}

async function main (): Promise<number> {
  const settings = parseSettings()
  if (settings === undefined) {
    process.stdout.write(`${USAGE}\n`)
    return 0
  }
  await checkPrerequisites(settings)
  const { work, cleanUp } = benchScratch('bench', progress)
  try {
    const results = await runAll(settings, work)
    process.stdout.write(`${report(results)}\n`)
    return infoHashDisagreement(results.fileRuns) === undefined && infoHashDisagreement(results.folderRuns) === undefined ? 0 : 1
  } finally {
    cleanUp()
  }
}

await runBench(main, progress)
