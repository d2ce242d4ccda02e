/**
 * The soak's tables: one row per window of samples (a minute on the terminal; a minute or five in
 * the markdown), then the summary with the figures the verdict judged on.
 */
import type { Sample } from './sampler.js'
import { median, type SeriesFigures, type Verdict } from './verdict.js'

const MB = 1e6

const COLUMNS = [
  'min', 'RSS MB', 'fds max (quiet median)', 'CPU %', 'loop p99 / max ms', 'announces ok / refused / unknown refused',
  'scrapes', 'downloads ok / failed', 'hostile (refused or closed)', 'reloads', 'drive', 'items seeding / other'
] as const

/** Left-aligned; the others are figures. */
const TEXT_COLUMNS: ReadonlySet<string> = new Set<string>(['hostile (refused or closed)', 'drive', 'items seeding / other'])

const HOSTILE_REFUSALS = /^(idle-sockets|big-ws-frames|peers|udp-garbage|infohash-flood)\.(refused|connection-refused|upgrade-refused|websocket-refused|connect-timeout|closed-by-service|idle-closed-by-service|greedy-closed-by-service)$/

/** The cells of one row: `samples` are the window's, `before` the counters at its start. */
function rowCells (endMinute: number, samples: readonly Sample[], before: Readonly<Record<string, number>>): string[] {
  const last = samples.at(-1)!
  const delta = (match: (name: string) => boolean): number => Object.entries(last.counters)
    .filter(([name]) => match(name))
    .reduce((sum, [name, value]) => sum + value - (before[name] ?? 0), 0)
  const named = (...names: string[]): number => delta((name) => names.includes(name))
  const quiet = samples.filter((sample) => sample.quiet).map((sample) => sample.fds)
  const loopP99 = samples.flatMap((sample) => sample.loopP99Ms ?? [])
  const loopMax = samples.flatMap((sample) => sample.loopMaxMs ?? [])
  const bursts = [...new Set(samples.flatMap((sample) => sample.burst ?? []))]
  const seeding = last.items.seeding ?? 0
  const other = Object.entries(last.items).filter(([state]) => state !== 'seeding').map(([state, count]) => `${count} ${state}`)
  return [
    String(endMinute),
    (Math.max(...samples.map((sample) => sample.rssBytes)) / MB).toFixed(1),
    `${Math.max(...samples.map((sample) => sample.fds))} (${quiet.length === 0 ? '–' : Math.round(median(quiet))})`,
    (samples.reduce((sum, sample) => sum + sample.cpuPercent, 0) / samples.length).toFixed(0),
    `${loopP99.length === 0 ? '–' : Math.max(...loopP99).toFixed(1)} / ${loopMax.length === 0 ? '–' : Math.max(...loopMax).toFixed(1)}`,
    `${named('http.ok', 'udp.ok', 'ws.ok')} / ${named('http.refused', 'udp.refused', 'ws.refused', 'http.timeout', 'udp.timeout', 'ws.timeout', 'ws.closed')} / ` +
      `${named('http.unknown-refused', 'udp.unknown-refused', 'ws.unknown-refused')}`,
    String(named('scrape.ok')),
    `${named('download.done')} / ${named('download.failed', 'download.mismatch')}`,
    bursts.length === 0 ? '' : `${bursts.join(', ')} (${delta((name) => HOSTILE_REFUSALS.test(name))})`,
    String(named('reload.applied')),
    `${named('drive.pulls') > 0 ? `pulled ×${named('drive.pulls')}, ` : ''}${last.drive}`,
    `${seeding}${other.length === 0 ? '' : ` / ${other.join(', ')}`}`
  ]
}

/** Rows of `windowSeconds` each, from the samples (a last partial window included). */
export function rows (samples: readonly Sample[], windowSeconds: number): string[][] {
  const result: string[][] = []
  let before: Readonly<Record<string, number>> = {}
  for (let start = 0; start < (samples.at(-1)?.atSeconds ?? 0); start += windowSeconds) {
    const window = samples.filter((sample) => sample.atSeconds >= start && sample.atSeconds < start + windowSeconds)
    if (window.length === 0) continue
    result.push(rowCells(Math.round((start + windowSeconds) / 60), window, before))
    before = window.at(-1)!.counters
  }
  return result
}

/** Columns padded to their widest cell. */
function textTable (cells: readonly string[][], header = true): string {
  const all = header ? [[...COLUMNS], ...cells] : cells
  const widths = COLUMNS.map((column, index) => Math.max(column.length, ...all.map((row) => row[index]?.length ?? 0)))
  return all.map((row) => row.map((cell, index) => TEXT_COLUMNS.has(COLUMNS[index]!) ? cell.padEnd(widths[index]!) : cell.padStart(widths[index]!)).join('  ').trimEnd()).join('\n')
}

export function markdownTable (cells: readonly string[][]): string {
  return [
    `| ${COLUMNS.join(' | ')} |`,
    `|${COLUMNS.map((column) => TEXT_COLUMNS.has(column) ? '---' : '--:').join('|')}|`,
    ...cells.map((row) => `| ${row.map((cell) => cell.replaceAll('|', '\\|')).join(' | ')} |`)
  ].join('\n')
}

export interface SummaryInput {
  readonly command: string
  readonly setup: string
  readonly loadSeconds: number
  readonly wallSeconds: number
  readonly samples: readonly Sample[]
  readonly verdict: Verdict
  readonly memoryMaxBytes: number | undefined
  readonly counters: Readonly<Record<string, number>>
  readonly failures: readonly string[]
  readonly failureCount: number
  readonly notes: readonly string[]
  readonly noteCount: number
  readonly logged: ReadonlyMap<string, { readonly count: number, readonly first: Readonly<Record<string, string>> }>
}

/** The summary as markdown list items (it reads as plain text on a terminal too). */
export function summaryLines (input: SummaryInput): string[] {
  const { verdict, samples, counters } = input
  const cpu = samples.map((sample) => sample.cpuPercent)
  const loopP99 = samples.flatMap((sample) => sample.loopP99Ms ?? [])
  const loopMax = samples.flatMap((sample) => sample.loopMaxMs ?? [])
  const group = (prefix: string): string => Object.entries(counters)
    .filter(([name]) => name.startsWith(`${prefix}.`))
    .map(([name, value]) => `${name.slice(prefix.length + 1)} ${value.toLocaleString('en-US')}`)
    .join(', ') || 'none'
  const logged = [...input.logged].sort((a, b) => b[1].count - a[1].count).slice(0, 10)
    .map(([message, { count, first }]) => `${count}× ${message} (first: ${Object.entries(first).filter(([key]) => key !== 'msg' && key !== 'level').map(([key, value]) => `${key}=${value}`).join(' ')})`)
  const passed = input.failureCount === 0
  return [
    `- **Result: ${passed ? 'PASS' : 'FAIL'}**${passed ? '' : ` — ${input.failureCount} failure(s):`}`,
    ...input.failures.map((failure) => `  - ${failure}`),
    ...(input.failureCount > input.failures.length ? [`  - … and ${input.failureCount - input.failures.length} more`] : []),
    `- Command: \`${input.command}\`; load ${(input.loadSeconds / 60).toFixed(1)} min, wall time ${(input.wallSeconds / 60).toFixed(1)} min (content, drive and first publish before, final checks after).`,
    `- Setup: ${input.setup}`,
    `- RSS: ${seriesText(verdict.rss, (value) => `${(value / MB).toFixed(1)} MB`)}; peak ${(verdict.peakRssBytes / MB).toFixed(1)} MB` +
      (input.memoryMaxBytes === undefined ? '.' : ` (unit's MemoryMax ${(input.memoryMaxBytes / MB).toFixed(0)} MB).`),
    `- Open fds: ${seriesText(verdict.fds, (value) => value.toFixed(0))}; peak ${verdict.peakFds} (during bursts).`,
    ...verdict.notes.map((note) => `- ${note}`),
    `- Service CPU: mean ${mean(cpu).toFixed(0)} % of one core, highest 10 s sample ${Math.max(0, ...cpu).toFixed(0)} %.`,
    `- Event-loop delay: p99 per 10 s window, median ${loopP99.length === 0 ? '–' : median(loopP99).toFixed(1)} ms, worst ${loopP99.length === 0 ? '–' : Math.max(...loopP99).toFixed(1)} ms; longest single delay ${loopMax.length === 0 ? '–' : Math.max(...loopMax).toFixed(1)} ms.`,
    `- Announces: HTTP ${group('http')}; UDP ${group('udp')}; WebSocket ${group('ws')}; scrapes ${group('scrape')}.`,
    `- Downloads (10 aria2c clients, 7 from peers, 3 from the web seed only): ${group('download')}.`,
    `- Asked from 127.0.0.1 while all this ran: /api/status unanswered ${counters['status.unanswered'] ?? 0} times, /metrics ${counters['metrics.unanswered'] ?? 0} times (one look each every 5 and 10 s).`,
    `- Reloads: ${group('reload')}. Drive: ${group('drive')}. Slow copies: ${group('slow-copy')}.`,
    ...['idle-sockets', 'big-ws-frames', 'peers', 'udp-garbage', 'infohash-flood'].map((burst) => `- Hostile ${burst}: ${group(burst)}.`),
    `- Logged by the service (warnings and errors, most frequent first): ${logged.length === 0 ? 'none' : ''}`,
    ...logged.map((entry) => `  - ${entry}`),
    ...(input.notes.length === 0 ? [] : ['- Notes:', ...input.notes.map((note) => `  - ${note}`)]),
    ...(input.noteCount > input.notes.length ? [`  - … and ${input.noteCount - input.notes.length} more`] : [])
  ]
}

function seriesText (figures: SeriesFigures | undefined, format: (value: number) => string): string {
  if (figures === undefined) return 'growth not judged'
  return `${figures.grows ? '**grows**' : 'bounded'} — first-quarter median ${format(figures.firstQuarterMedian)}, last-quarter ${format(figures.lastQuarterMedian)} ` +
    `(${figures.rise >= 0 ? '+' : ''}${format(figures.rise)}), slope over the second half ${figures.slopePerHour >= 0 ? '+' : ''}${format(figures.slopePerHour)}/hour, ${figures.samples} quiet samples judged`
}

function mean (values: readonly number[]): number {
  return values.length === 0 ? 0 : values.reduce((sum, value) => sum + value, 0) / values.length
}

/** The terminal's table: a row once six samples (a minute) are in, and the rest at the end. */
export class MinuteTable {
  private samples: Sample[] = []
  private before: Readonly<Record<string, number>> = {}

  constructor (private readonly write: (text: string) => void) {
    write(`${textTable([])}\n`)
  }

  add (sample: Sample): void {
    this.samples.push(sample)
    if (this.samples.length >= 6) this.flush()
  }

  flush (): void {
    const last = this.samples.at(-1)
    if (last === undefined) return
    this.write(`${textTable([rowCells(Math.ceil(last.atSeconds / 60), this.samples, this.before)], false)}\n`)
    this.before = last.counters
    this.samples = []
  }
}

/** One sample, for the progress log. */
export function sampleLine (sample: Sample, downloading: number): string {
  const ms = (value: number | undefined): string => value?.toFixed(1) ?? '–'
  return `${sample.atSeconds.toFixed(0)} s: RSS ${(sample.rssBytes / MB).toFixed(1)} MB, ${sample.fds} fds, CPU ${sample.cpuPercent.toFixed(0)} %, ` +
    `loop p99 ${ms(sample.loopP99Ms)} / max ${ms(sample.loopMaxMs)} ms, ${downloading} aria2c, ${sample.counters['download.done'] ?? 0} downloads done` +
    `${sample.burst === undefined ? '' : `, ${sample.burst}`}${sample.quiet ? '' : ' (not quiet)'}`
}
