import { runOk } from './run.js'

/** A size as transmission-show prints it: rounded, so it stands for a range of byte counts. */
export interface DisplayedSize {
  readonly text: string
  readonly value: number
  readonly unit: string
}

export interface TransmissionShowReport {
  readonly name: string
  readonly hash: string
  readonly pieceCount: number
  readonly pieceSize: DisplayedSize
  readonly totalSize: DisplayedSize
  readonly private: boolean
  readonly comment: string | undefined
  readonly trackerTiers: ReadonlyArray<readonly string[]>
  /** Transmission adds a trailing `/` to the web seeds of a multi-file torrent. */
  readonly webSeeds: readonly string[]
  /** In torrent order (`transmission-show -u`); paths start with the torrent name for a multi-file torrent. */
  readonly files: ReadonlyArray<{ readonly path: string, readonly size: DisplayedSize }>
}

const UNITS: Readonly<Record<string, number>> = {
  B: 1,
  kB: 1e3,
  MB: 1e6,
  GB: 1e9,
  TB: 1e12,
  KiB: 1024,
  MiB: 1024 ** 2,
  GiB: 1024 ** 3,
  TiB: 1024 ** 4
}

/** Runs transmission-show (transmission-cli 3.00) on a .torrent and reads its text report. */
export async function transmissionShow (torrent: string): Promise<TransmissionShowReport> {
  const { stdout } = await runOk('transmission-show', ['-u', torrent], { timeoutMs: 60_000 })
  return parseTransmissionShow(stdout)
}

export function parseTransmissionShow (text: string): TransmissionShowReport {
  const sections = splitSections(text)
  const general = fields(sections.get('GENERAL') ?? [])
  const field = (key: string): string => {
    const value = general.get(key)
    if (value === undefined) throw new Error(`transmission-show printed no "${key}":\n${text}`)
    return value
  }
  return {
    name: field('Name'),
    hash: field('Hash'),
    pieceCount: Number(field('Piece Count')),
    pieceSize: parseDisplayedSize(field('Piece Size')),
    totalSize: parseDisplayedSize(field('Total Size')),
    private: field('Privacy') === 'Private torrent',
    comment: general.get('Comment'),
    trackerTiers: tiers(sections.get('TRACKERS') ?? []),
    webSeeds: (sections.get('WEBSEEDS') ?? []).map((line) => line.trim()).filter((line) => line !== ''),
    files: (sections.get('FILES') ?? []).filter((line) => line.trim() !== '').map((line) => {
      const match = /^ {2}(.*) \(([^()]*)\)$/.exec(line)
      if (match === null) throw new Error(`unexpected transmission-show file line: ${JSON.stringify(line)}`)
      return { path: match[1]!, size: parseDisplayedSize(match[2]!) }
    })
  }
}

export function parseDisplayedSize (text: string): DisplayedSize {
  const match = /^(\d+(?:\.\d+)?) (\S+)$/.exec(text.trim())
  const unit = match?.[2]
  if (match === null || unit === undefined || UNITS[unit] === undefined) throw new Error(`not a size: ${JSON.stringify(text)}`)
  return { text, value: Number(match[1]), unit }
}

/** True when rounding `bytes` to the precision shown gives what transmission-show printed. */
export function displaysAs (size: DisplayedSize, bytes: number): boolean {
  const decimals = size.text.trim().split(' ')[0]!.split('.')[1]?.length ?? 0
  const halfStep = 0.5 * 10 ** -decimals
  const exact = bytes / UNITS[size.unit]!
  // A hair of slack for the printf rounding of a value that is exactly half-way.
  return Math.abs(exact - size.value) <= halfStep * (1 + 1e-9)
}

/** Top-level sections: the upper-case heading lines, each followed by its indented lines. */
function splitSections (text: string): Map<string, string[]> {
  const sections = new Map<string, string[]>()
  let current: string[] | undefined
  for (const line of text.split('\n')) {
    if (/^[A-Z]+$/.test(line)) {
      current = []
      sections.set(line, current)
    } else if (current !== undefined) {
      current.push(line)
    }
  }
  return sections
}

function fields (lines: readonly string[]): Map<string, string> {
  const result = new Map<string, string>()
  for (const line of lines) {
    const match = /^ {2}([^:]+): (.*)$/.exec(line)
    if (match !== null) result.set(match[1]!, match[2]!)
  }
  return result
}

function tiers (lines: readonly string[]): string[][] {
  const result: string[][] = []
  for (const line of lines.map((text) => text.trim())) {
    if (/^Tier #\d+$/.test(line)) result.push([])
    else if (line !== '') result.at(-1)?.push(line)
  }
  return result
}
