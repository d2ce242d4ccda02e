import type { InfoHash } from '../metainfo/metainfo.js'
import { IdentityError } from './errors.js'

/** Torrents listed in one catalog at most; the rest of a larger library is left out (and logged). */
export const MAX_CATALOG_ITEMS = 10_000
/** Bytes of one catalog document at most (10,000 entries with names of 300 bytes take about 3.6 MB). */
export const MAX_CATALOG_BYTES = 4 * 1024 * 1024
/** A name in a catalog entry, in UTF-16 units at most: a torrent's name is one file name, 255 bytes on most filesystems. */
export const MAX_CATALOG_NAME = 1024
export const CATALOG_VERSION = 1

/** One published torrent, as a follower needs it: the infohash is the key (DHT and peers give the rest, BEP 9). */
export interface CatalogEntry {
  readonly infoHash: InfoHash
  readonly name: string
  /** Total bytes of its content. */
  readonly size: number
}

/** What a box publishes: whose catalog it is (public key, hex) and its torrents, sorted by infohash. */
export interface CatalogDocument {
  readonly version: typeof CATALOG_VERSION
  readonly publicKey: string
  readonly items: readonly CatalogEntry[]
}

/**
 * The catalog as JSON bytes: entries sorted by infohash, so the same torrents always give the same
 * bytes (and the same catalog infohash: no needless update for followers). Entries past
 * MAX_CATALOG_ITEMS or MAX_CATALOG_BYTES are left out, counted in `omitted`.
 */
export function encodeCatalogDocument (publicKey: string, entries: Iterable<CatalogEntry>): { readonly bytes: Buffer, readonly listed: number, readonly omitted: number } {
  const sorted = [...entries].sort((a, b) => a.infoHash < b.infoHash ? -1 : a.infoHash > b.infoHash ? 1 : 0)
  const head = `{"version":${CATALOG_VERSION},"publicKey":${JSON.stringify(publicKey)},"items":[`
  const tail = ']}\n'
  const lines: string[] = []
  let bytes = Buffer.byteLength(head) + Buffer.byteLength(tail)
  for (const entry of sorted) {
    if (lines.length === MAX_CATALOG_ITEMS) break
    const line = `${lines.length === 0 ? '' : ',\n'}${JSON.stringify({ infoHash: entry.infoHash, name: entry.name, size: entry.size })}`
    const lineBytes = Buffer.byteLength(line)
    if (bytes + lineBytes > MAX_CATALOG_BYTES) break
    lines.push(line)
    bytes += lineBytes
  }
  return { bytes: Buffer.from(head + lines.join('') + tail), listed: lines.length, omitted: sorted.length - lines.length }
}

const HEX_INFOHASH = /^[0-9a-f]{40}$/
const HEX_KEY = /^[0-9a-f]{64}$/

/**
 * A catalog document from a box (hostile input: a follower downloaded it): within the bounds,
 * version 1, every entry well formed, no infohash twice. Fields it does not know are ignored.
 */
export function parseCatalogDocument (bytes: Uint8Array): CatalogDocument {
  if (bytes.length > MAX_CATALOG_BYTES) throw new IdentityError('ET_CATALOG_DOCUMENT', `a catalog is at most ${MAX_CATALOG_BYTES} bytes; this one has ${bytes.length}`)
  let parsed: unknown
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes))
  } catch {
    throw new IdentityError('ET_CATALOG_DOCUMENT', 'the catalog is not UTF-8 JSON')
  }
  const document = parsed as Record<string, unknown>
  if (typeof document !== 'object' || document === null || Array.isArray(document)) throw new IdentityError('ET_CATALOG_DOCUMENT', 'the catalog is not a JSON object')
  if (document.version !== CATALOG_VERSION) throw new IdentityError('ET_CATALOG_DOCUMENT', `catalog version ${JSON.stringify(document.version)} is not ${CATALOG_VERSION}`)
  if (typeof document.publicKey !== 'string' || !HEX_KEY.test(document.publicKey)) throw new IdentityError('ET_CATALOG_DOCUMENT', 'the catalog\'s publicKey is not 64 hex digits')
  if (!Array.isArray(document.items)) throw new IdentityError('ET_CATALOG_DOCUMENT', 'the catalog\'s items are not a list')
  if (document.items.length > MAX_CATALOG_ITEMS) throw new IdentityError('ET_CATALOG_DOCUMENT', `a catalog lists at most ${MAX_CATALOG_ITEMS} items; this one ${document.items.length}`)
  const seen = new Set<string>()
  const items = (document.items as unknown[]).map((item, index) => {
    const entry = parseEntry(item, index)
    if (seen.has(entry.infoHash)) throw new IdentityError('ET_CATALOG_DOCUMENT', `catalog item ${index + 1}: infohash ${entry.infoHash} is listed twice`)
    seen.add(entry.infoHash)
    return entry
  })
  return { version: CATALOG_VERSION, publicKey: document.publicKey, items }
}

function parseEntry (item: unknown, index: number): CatalogEntry {
  const { infoHash, name, size } = (typeof item === 'object' && item !== null ? item : {}) as Record<string, unknown>
  const where = `catalog item ${index + 1}`
  if (typeof infoHash !== 'string' || !HEX_INFOHASH.test(infoHash)) throw new IdentityError('ET_CATALOG_DOCUMENT', `${where}: infoHash is not 40 lower-case hex digits`)
  if (typeof name !== 'string' || name.length === 0 || name.length > MAX_CATALOG_NAME) throw new IdentityError('ET_CATALOG_DOCUMENT', `${where}: name is not a string of 1 to ${MAX_CATALOG_NAME} characters`)
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw new IdentityError('ET_CATALOG_DOCUMENT', `${where}: size is not a whole number of bytes`)
  return { infoHash: infoHash as InfoHash, name, size }
}
