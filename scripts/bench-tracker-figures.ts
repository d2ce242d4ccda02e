import { endianness } from 'node:os'

/** bench-tracker's arithmetic and the outputs it reads (wrk's JSON line, /proc/net/udp), kept pure. */

export function median (values: readonly number[]): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const middle = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

/** `evertorrent / opentracker` as "0.18×"; "–" where it means nothing (a zero or missing figure). */
export function ratioText (ours: number, theirs: number): string {
  if (!Number.isFinite(ours) || !Number.isFinite(theirs) || theirs === 0) return '–'
  const ratio = ours / theirs
  return `${ratio >= 10 ? ratio.toFixed(0) : ratio >= 1 ? ratio.toFixed(1) : ratio.toFixed(2)}×`
}

/** Losses as a percentage of what was sent, 0 when nothing was. */
export function lossPercent (sent: number, answered: number): number {
  return sent === 0 ? 0 : Math.max(0, 100 * (1 - answered / sent))
}

/** CPU seconds per 1,000 requests; NaN when none was answered. */
export function cpuPerThousand (cpuSeconds: number, requests: number): number {
  return requests === 0 ? Number.NaN : 1000 * cpuSeconds / requests
}

/** What wrk's run of bench-tracker.lua reports (its done() prints it). */
export interface WrkFigures {
  readonly requests: number
  readonly durationUs: number
  readonly connectErrors: number
  readonly readErrors: number
  readonly writeErrors: number
  /** Non-2xx/3xx answers, as wrk counts them. */
  readonly statusErrors: number
  readonly timeouts: number
  /** Answers that were not a 200 with peers: a status other than 200 or a bencoded "failure reason". */
  readonly failures: number
  readonly p50Us: number
  readonly p99Us: number
  readonly maxUs: number
}

const WRK_LINE = 'bench-tracker-json '

export function parseWrkOutput (stdout: string): WrkFigures {
  const line = stdout.split('\n').find((candidate) => candidate.startsWith(WRK_LINE))
  if (line === undefined) throw new Error(`wrk printed no "${WRK_LINE}" line: ${stdout.slice(-500)}`)
  return JSON.parse(line.slice(WRK_LINE.length)) as WrkFigures
}

/**
 * Connect, write and timeout errors and failed announces. Read errors are left out: wrk counts a
 * connection the server closes after its answer as one, and opentracker (bookworm's build) closes
 * every connection so, having no keep-alive.
 */
export function wrkErrors (figures: WrkFigures): number {
  return figures.connectErrors + figures.writeErrors + figures.timeouts + figures.failures
}

/**
 * Datagrams the kernel dropped because a socket's receive buffer was full, summed over the sockets of
 * /proc/net/udp whose local address and port `matches`. Addresses there are hex in host byte order
 * (`0100007F:1A0B` is 127.0.0.1:6667 on a little-endian machine).
 */
export function udpDrops (procNetUdp: string, matches: (address: string, port: number) => boolean, littleEndian = endianness() === 'LE'): number {
  let drops = 0
  for (const line of procNetUdp.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/)
    if (fields.length < 13) continue
    const [hexAddress, hexPort] = fields[1]!.split(':') as [string, string]
    if (hexAddress.length !== 8) continue
    const bytes = [0, 2, 4, 6].map((offset) => Number.parseInt(hexAddress.slice(offset, offset + 2), 16))
    const address = (littleEndian ? bytes.reverse() : bytes).join('.')
    if (matches(address, Number.parseInt(hexPort, 16))) drops += Number(fields[12])
  }
  return drops
}
