/**
 * `npm run bench:create-formats`: what hybrid and v2 torrents (BEP 52) cost `evertorrent create`
 * against v1 — throughput and peak RSS on one large file and on thousands of small files — with
 * libtorrent 2.0's own create_torrent (python3-libtorrent) for reference. Prints a markdown table
 * (for the README) and every run.
 *
 * Usage: node dist/scripts/bench-create-formats.js [--runs N] [--quick]
 */
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { availableParallelism, cpus, loadavg } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { parseTorrent } from '../appliance/metainfo/metainfo.js'
import type { TorrentFormat } from '../appliance/metainfo/torrent-format.js'
import { smallFilePath, warmUp, writeSmallFiles } from './bench-content.js'
import { measure, type Measurement } from './bench-measure.js'
import { benchScratch, runBench } from './bench-scratch.js'
import { writePseudoRandomFile } from '../test/helpers/content.js'
import { SYSTEM_PYTHON } from '../test/helpers/libtorrent.js'

const KiB = 1024
const MiB = 1024 * KiB
const GiB = 1024 * MiB
const MB = 1e6

const USAGE = `Usage: node dist/scripts/bench-create-formats.js [options]

Options:
  --runs N   rounds; in each, every tool runs once, in turn; the best time is reported (default: 3)
  --quick    small smoke run: a 256 MiB file and 500 small files, one round
  -h, --help this help`

const CLI = fileURLToPath(new URL('../appliance/cli.js', import.meta.url))
const LT_CREATE = fileURLToPath(new URL('../../test/interop/clients/lt_create.py', import.meta.url))

interface Tool {
  readonly name: string
  readonly format: TorrentFormat
  readonly command: (input: string, output: string, pieceLength: number) => string[]
}

const evertorrent = (format: TorrentFormat): Tool => ({
  name: `evertorrent ${format}`,
  format,
  command: (input, output, pieceLength) => [process.execPath, CLI, 'create', input, '-o', output, '-F', format, '-l', String(pieceLength), '-q', '-f']
})
const libtorrent = (format: TorrentFormat): Tool => ({
  name: `libtorrent ${format}`,
  format,
  command: (input, output, pieceLength) => [SYSTEM_PYTHON, LT_CREATE, 'create', input, String(pieceLength), format, output]
})
const TOOLS = [evertorrent('v1'), evertorrent('hybrid'), evertorrent('v2'), libtorrent('v1'), libtorrent('hybrid')]

interface Content {
  readonly label: string
  readonly path: string
  readonly bytes: number
  readonly pieceLength: number
}

interface Run extends Measurement {
  readonly tool: string
  readonly infoHash: string
}

function progress (message: string): void {
  process.stderr.write(`bench-create-formats: ${message}\n`)
}

/** The tools take turns within each round, so a busy moment of the machine does not fall on one tool only. */
async function benchmark (content: Content, work: string, rounds: number): Promise<Run[]> {
  const runs: Run[] = []
  for (let round = 1; round <= rounds; round++) {
    for (const tool of TOOLS) {
      const output = join(work, 'out.torrent')
      rmSync(output, { force: true })
      const measured = await measure(tool.command(content.path, output, content.pieceLength))
      const metainfo = parseTorrent(readFileSync(output))
      if (metainfo.format !== tool.format) throw new Error(`${tool.name} made a ${metainfo.format} torrent`)
      const run = { ...measured, tool: tool.name, infoHash: metainfo.infoHashV2 ?? metainfo.infoHash }
      runs.push(run)
      progress(`${content.label}: ${tool.name} round ${round}/${rounds}: ${run.seconds.toFixed(2)} s, ${(content.bytes / run.seconds / MB).toFixed(0)} MB/s, ${(run.peakRssKiB / 1024).toFixed(1)} MiB`)
    }
  }
  return runs
}

function rows (content: Content, runs: readonly Run[]): string[] {
  const best = (tool: string): Run => runs.filter((run) => run.tool === tool).reduce((a, b) => a.seconds <= b.seconds ? a : b)
  const peak = (tool: string): number => Math.max(...runs.filter((run) => run.tool === tool).map((run) => run.peakRssKiB))
  const baseline = best('evertorrent v1')
  return TOOLS.map((tool, index) => {
    const run = best(tool.name)
    const lead = index === 0 ? `| ${content.label} (${(content.bytes / MiB).toFixed(0)} MiB) | ${content.pieceLength / KiB} KiB ` : '| | '
    return `${lead}| ${tool.name} | ${(content.bytes / run.seconds / MB).toFixed(0)} | *${(baseline.seconds / run.seconds).toFixed(2)}×* | ${(peak(tool.name) / 1024).toFixed(1)} | ${(run.userSeconds + run.systemSeconds).toFixed(2)} |`
  })
}

/**
 * Same format, same content: the same infohash from both tools and every round. Not for libtorrent's
 * v1 torrents of a folder: without BEP 52's canonical layout it lists files in directory order.
 */
function disagreements (runs: readonly Run[]): string[] {
  const byFormat = new Map<string, Set<string>>()
  for (const run of runs.filter((candidate) => candidate.tool !== 'libtorrent v1')) {
    const format = run.tool.split(' ')[1]!
    byFormat.set(format, (byFormat.get(format) ?? new Set()).add(run.infoHash))
  }
  return [...byFormat].filter(([, hashes]) => hashes.size > 1).map(([format]) => format)
}

async function main (): Promise<number> {
  const { values } = parseArgs({ options: { runs: { type: 'string' }, quick: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } })
  if (values.help === true) {
    process.stdout.write(`${USAGE}\n`)
    return 0
  }
  for (const path of [SYSTEM_PYTHON, '/usr/bin/time', CLI, LT_CREATE]) if (!existsSync(path)) throw new Error(`${path} is missing (python3-libtorrent, GNU time, a build: npx tsc -p .)`)
  const quick = values.quick === true
  const rounds = values.runs !== undefined ? Number(values.runs) : quick ? 1 : 3
  if (!Number.isSafeInteger(rounds) || rounds < 1) throw new Error(`--runs expects a positive whole number, not "${values.runs}"`)
  const { work, cleanUp } = benchScratch('formats', progress)
  try {
    const started = performance.now()
    const loadBefore = loadavg()[0]!
    const fileCount = quick ? 500 : 5000
    const file: Content = { label: 'one file, random data', path: join(work, 'random.bin'), bytes: quick ? 256 * MiB : 2 * GiB, pieceLength: MiB }
    progress(`writing a ${file.bytes / MiB} MiB file and ${fileCount} small files in ${work}`)
    await writePseudoRandomFile(file.path, file.bytes, 'bench-create-formats: one file')
    const folderPath = join(work, 'small-files')
    const folder: Content = { label: `${fileCount.toLocaleString('en-US')} files of 1–64 KiB`, path: folderPath, bytes: await writeSmallFiles(folderPath, fileCount), pieceLength: 64 * KiB }
    await warmUp([file.path, ...Array.from({ length: fileCount }, (_, index) => smallFilePath(folderPath, index))])
    const fileRuns = await benchmark(file, work, rounds)
    const folderRuns = await benchmark(folder, work, rounds)
    const differ = [...disagreements(fileRuns), ...disagreements(folderRuns)]
    process.stdout.write([
      `### evertorrent create: v1, hybrid and v2 (${availableParallelism()} threads, cached data)`,
      '',
      `Best wall time of ${rounds} round${rounds === 1 ? '' : 's'} (tools in turn within each round), start to exit; MB/s of the files' bytes (10^6; pad bytes not counted); ` +
        `× = throughput relative to evertorrent v1; peak RSS: highest of the rounds; CPU: user + system of the best run. ` +
        `libtorrent: python3-libtorrent's create_torrent and set_piece_hashes, its default disk threads. ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}. ` +
        `Load average ${loadBefore.toFixed(2)} before, ${loadavg()[0]!.toFixed(2)} after; ${((performance.now() - started) / 1000).toFixed(0)} s in all.`,
      '',
      '| Content | Piece length | Tool | MB/s | × v1 | Peak RSS (MiB) | CPU (s) |',
      '|---|---|---|--:|--:|--:|--:|',
      ...rows(file, fileRuns),
      ...rows(folder, folderRuns),
      '',
      differ.length === 0 ? 'Infohashes: evertorrent and libtorrent agree on hybrid, and every round on each format.' : `**Infohashes differ** for: ${differ.join(', ')}`,
      '',
      '```',
      ...[...fileRuns.map((run) => ({ run, content: file })), ...folderRuns.map((run) => ({ run, content: folder }))].map(({ run, content }) =>
        `${content.label.padEnd(24)} ${run.tool.padEnd(18)} ${run.seconds.toFixed(3).padStart(8)} s ${String(run.peakRssKiB).padStart(8)} KiB ${run.userSeconds.toFixed(2).padStart(6)} u ${run.systemSeconds.toFixed(2).padStart(6)} s  ${run.infoHash}`),
      '```',
      ''
    ].join('\n'))
    return differ.length === 0 ? 0 : 1
  } finally {
    cleanUp()
  }
}

await runBench(main, progress)
