import { isAbsolute, normalize, relative, sep } from 'node:path'

/** One `[[mirror]]` table of the config: another box this one follows and everseeds. */
export interface MirrorEntry {
  /** The followed box's ed25519 public key, 64 lower-case hex digits: its catalog is found in the DHT (BEP 46). */
  readonly publicKey?: string
  /** Or its feed's URL (`http://box/feed.json` or `/feed.xml`): followed over HTTP, without the DHT. */
  readonly feed?: string
  /** Where the followed box's items are kept: absolute, created if missing. */
  readonly folder: string
  /** The most its items may take on disk; 0: no limit. */
  readonly maxBytes: number
  /** How long an item the followed box no longer publishes is kept, in days. */
  readonly keepDays: number
  /** Seconds between two polls of the followed box. */
  readonly pollSeconds: number
}

/** Most `[[mirror]]` tables one config may hold: each follows a box, with a folder and downloads of its own. */
export const MAX_MIRRORS = 16
export const DEFAULT_KEEP_DAYS = 30
export const DEFAULT_POLL_SECONDS = 600
export const MIN_POLL_SECONDS = 10
const KEYS = new Set(['public_key', 'feed', 'folder', 'max_bytes', 'keep_days', 'poll_seconds'])
const PUBLIC_KEY = /^[0-9a-f]{64}$/

/**
 * The `[[mirror]]` tables of a config file, checked: each names one box (a public key or a feed URL,
 * not both), a folder of its own, and bounds. `fail(message)` throws the caller's config error.
 */
export function mirrorEntriesFrom (value: unknown, fail: (message: string) => never): MirrorEntry[] {
  if (!Array.isArray(value)) fail('must be [[mirror]] tables')
  const tables = value as unknown[]
  if (tables.length > MAX_MIRRORS) fail(`holds ${tables.length} [[mirror]] tables; at most ${MAX_MIRRORS}`)
  const entries = tables.map((table, index) => mirrorEntryFrom(table, (message) => fail(`[[mirror]] number ${index + 1}: ${message}`)))
  for (const [index, entry] of entries.entries()) {
    const clash = entries.findIndex((other, otherIndex) => otherIndex !== index && nested(entry.folder, other.folder))
    if (clash >= 0) fail(`[[mirror]] number ${index + 1}: its folder ${entry.folder} and that of number ${clash + 1} (${entries[clash]!.folder}) overlap; each box needs a folder of its own`)
  }
  return entries
}

function mirrorEntryFrom (table: unknown, fail: (message: string) => never): MirrorEntry {
  if (typeof table !== 'object' || table === null || Array.isArray(table)) fail('must be a table')
  const fields = table as Record<string, unknown>
  for (const key of Object.keys(fields)) {
    if (!KEYS.has(key)) fail(`unknown key "${key}" (known: ${[...KEYS].join(', ')})`)
  }
  const { public_key: publicKey, feed, folder } = fields
  if ((publicKey === undefined) === (feed === undefined)) fail('give the followed box either public_key or feed, one of them')
  if (publicKey !== undefined && (typeof publicKey !== 'string' || !PUBLIC_KEY.test(publicKey))) {
    fail(`public_key must be 64 lower-case hex digits (the box's status page shows it), not ${JSON.stringify(publicKey)}`)
  }
  if (feed !== undefined && (typeof feed !== 'string' || !isHttpUrl(feed))) fail(`feed must be an http:// or https:// URL, not ${JSON.stringify(feed)}`)
  if (typeof folder !== 'string' || !isAbsolute(folder)) fail(`folder must be an absolute path, not ${JSON.stringify(folder)}`)
  return {
    ...(publicKey !== undefined && { publicKey: publicKey as string }),
    ...(feed !== undefined && { feed: feed as string }),
    folder: normalize(folder as string).replace(/(.)\/+$/, '$1'),
    maxBytes: wholeNumber(fields.max_bytes, 0, 'max_bytes', 0, Number.MAX_SAFE_INTEGER, fail),
    keepDays: wholeNumber(fields.keep_days, DEFAULT_KEEP_DAYS, 'keep_days', 0, 36_500, fail),
    pollSeconds: wholeNumber(fields.poll_seconds, DEFAULT_POLL_SECONDS, 'poll_seconds', MIN_POLL_SECONDS, 7 * 24 * 3600, fail)
  }
}

/**
 * A mirror's folder may not be inside, or hold, a library folder or the state directory: the
 * publisher would publish half-downloaded files, or the mirror would write over the box's own items.
 */
export function mirrorFolderClash (entries: readonly MirrorEntry[], others: ReadonlyArray<{ readonly name: string, readonly folder: string }>): string | undefined {
  for (const [index, entry] of entries.entries()) {
    const other = others.find(({ folder }) => folder !== '' && nested(entry.folder, normalize(folder)))
    if (other !== undefined) return `[[mirror]] number ${index + 1}: its folder ${entry.folder} overlaps ${other.name} ${other.folder}; give it a folder of its own`
  }
  return undefined
}

/** Whether one of the two folders is the other or inside it. */
function nested (a: string, b: string): boolean {
  const inside = (child: string, parent: string): boolean => {
    const path = relative(parent, child)
    return path === '' || (!path.startsWith(`..${sep}`) && path !== '..' && !isAbsolute(path))
  }
  return inside(a, b) || inside(b, a)
}

function isHttpUrl (text: string): boolean {
  try {
    const url = new URL(text)
    return url.protocol === 'http:' || url.protocol === 'https:'
  } catch {
    return false
  }
}

function wholeNumber (value: unknown, fallback: number, key: string, min: number, max: number, fail: (message: string) => never): number {
  if (value === undefined) return fallback
  const number = typeof value === 'bigint' ? Number(value) : value
  if (typeof number !== 'number' || !Number.isSafeInteger(number) || number < min || number > max) fail(`${key} must be a whole number from ${min} to ${max}, not ${JSON.stringify(value, (_, v: unknown) => typeof v === 'bigint' ? v.toString() : v)}`)
  return number as number
}
