import type { UpstreamItem } from './mirror-plan.js'

/** An item of a followed box's JSON Feed, with where its `.torrent` is. */
export interface FeedEntry extends UpstreamItem {
  /** Absolute URL of the item's `.torrent`. */
  readonly torrentUrl: string
}

const INFO_HASH = /^[0-9a-f]{40}$/
const MAX_NAME = 1024

/**
 * The items of a JSON Feed 1.1 document as evertorrent writes it (docs/api.md "/feed.json"): each with
 * `_torrent.info_hash`, `_torrent.content_length` and a `.torrent` attachment. A malformed entry is
 * refused with its reason, the others kept; a document that is no JSON Feed throws.
 */
export function parseJsonFeed (text: string, feedUrl: string, maxItems: number): { entries: FeedEntry[], refused: string[] } {
  let document: unknown
  try {
    document = JSON.parse(text)
  } catch {
    // The RSS feed of a box (or any XML feed): say where its JSON Feed is rather than only "not JSON".
    if (/^\s*</.test(text)) throw new TypeError(`an XML (RSS or Atom) feed, not a JSON Feed: a mirror follows a box's /feed.json${/\/feed\.xml(?:[?#]|$)/.test(feedUrl) ? ` (${feedUrl.replace(/\/feed\.xml(?=[?#]|$)/, '/feed.json')})` : ''}`)
    throw new TypeError('not JSON (a JSON Feed 1.1 document is expected)')
  }
  if (!isObject(document) || typeof document.version !== 'string' || !document.version.startsWith('https://jsonfeed.org/version/') || !Array.isArray(document.items)) {
    throw new TypeError('not a JSON Feed document (no version or items)')
  }
  const entries: FeedEntry[] = []
  const refused: string[] = []
  const seen = new Set<string>()
  for (const [index, item] of (document.items as unknown[]).entries()) {
    if (entries.length >= maxItems) {
      refused.push(`items beyond the first ${maxItems} are ignored`)
      break
    }
    const entry = feedEntry(item, feedUrl)
    if (typeof entry === 'string') refused.push(`item ${index + 1}: ${entry}`)
    else if (!seen.has(entry.infoHash)) {
      seen.add(entry.infoHash)
      entries.push(entry)
    }
  }
  return { entries, refused }
}

function feedEntry (item: unknown, feedUrl: string): FeedEntry | string {
  if (!isObject(item)) return 'not an object'
  const torrent = item._torrent
  if (!isObject(torrent)) return 'no _torrent extension'
  const infoHash = typeof torrent.info_hash === 'string' ? torrent.info_hash.toLowerCase() : undefined
  if (infoHash === undefined || !INFO_HASH.test(infoHash)) return '_torrent.info_hash is not 40 hex digits'
  const bytes = torrent.content_length
  if (typeof bytes !== 'number' || !Number.isSafeInteger(bytes) || bytes < 0) return `${infoHash}: _torrent.content_length is not a size in bytes`
  const attachment = Array.isArray(item.attachments)
    ? (item.attachments as unknown[]).find((one) => isObject(one) && one.mime_type === 'application/x-bittorrent' && typeof one.url === 'string')
    : undefined
  if (!isObject(attachment)) return `${infoHash}: no application/x-bittorrent attachment`
  let torrentUrl: URL
  try {
    torrentUrl = new URL(attachment.url as string, feedUrl)
  } catch {
    return `${infoHash}: the attachment's URL is not a URL`
  }
  if (torrentUrl.protocol !== 'http:' && torrentUrl.protocol !== 'https:') return `${infoHash}: the attachment's URL is not http(s)`
  const title = typeof item.title === 'string' && item.title !== '' ? item.title : infoHash
  return { infoHash, name: title.slice(0, MAX_NAME), bytes, torrentUrl: torrentUrl.href }
}

function isObject (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
