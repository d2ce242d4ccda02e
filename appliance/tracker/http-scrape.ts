import bencode from 'bencode'
import { TrackerError } from './errors.js'
import { parseTrackerQuery } from './tracker-query.js'

// BEP 48 HTTP scrapes: parsing and encoding only.

export interface ScrapeCounts {
  /** Hex. */
  readonly infoHash: string
  readonly complete: number
  readonly downloaded: number
  readonly incomplete: number
}

/** The distinct infohashes asked for, hex; none means "every torrent", which BEP 48 leaves to the tracker. */
export function parseHttpScrape (url: string): string[] {
  const infoHashes = (parseTrackerQuery(url).get('info_hash') ?? []).map((infoHash) => {
    if (infoHash.length !== 20) throw new TrackerError('ET_BAD_REQUEST', 'bad scrape: info_hash must be 20 bytes')
    return infoHash.toString('hex')
  })
  return [...new Set(infoHashes)]
}

/**
 * `files` is keyed by raw 20-byte infohashes, which are not text, so the dictionary is put together
 * here: bencode sorts keys as raw byte strings, and its encoder would treat them as UTF-8.
 */
export function encodeHttpScrapeResponse (counts: readonly ScrapeCounts[]): Buffer {
  const entries = counts
    .map((count) => ({ key: Buffer.from(count.infoHash, 'hex'), count }))
    .sort((a, b) => Buffer.compare(a.key, b.key))
    .flatMap(({ key, count }) => [
      Buffer.from('20:', 'latin1'),
      key,
      Buffer.from(bencode.encode({ complete: count.complete, downloaded: count.downloaded, incomplete: count.incomplete }))
    ])
  return Buffer.concat([Buffer.from('d5:filesd', 'latin1'), ...entries, Buffer.from('ee', 'latin1')])
}
