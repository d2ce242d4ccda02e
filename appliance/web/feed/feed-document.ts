import type { PublishedTorrent } from '../../catalog/catalog.js'
import { magnetUri } from '../../metainfo/magnet.js'
import { encodeTorrent, type InfoHash } from '../../metainfo/metainfo.js'
import { xmlText } from './xml-text.js'

/**
 * One published torrent as both feeds show it, whatever origin they are served from. The one entry
 * model: the RSS and the JSON Feed renderings only map its fields, neither computes one.
 */
export interface FeedEntry {
  /** `urn:btih:<hex>` (BEP 9's exact topic): the RSS guid and the JSON Feed id. */
  readonly id: string
  readonly infoHash: InfoHash
  /** The torrent's name, with what XML cannot hold replaced (see `xmlText`). */
  readonly title: string
  /** When the box published it (see `publishedAtOf`). */
  readonly publishedAt: Date
  /** The `.torrent` on the box's web server (`/torrents/<infohash>.torrent`), from its origin. */
  readonly torrentPath: string
  /** Bytes of that `.torrent` file, as it is served now. */
  readonly torrentBytes: number
  readonly magnet: string
  /** Bytes of the content. */
  readonly contentBytes: number
  readonly fileCount: number
}

/**
 * When the box published a torrent: the `creation date` the publisher stamps into it when its hashing
 * is done, just before publishing it, and which is kept in its `.torrent` in the state directory
 * across restarts (a resumed item is not published anew). A torrent without one (not made by the
 * publisher) counts from when the catalog first listed it, given as `listedAt` in ms.
 */
export function publishedAtOf (torrent: PublishedTorrent, listedAt: number): number {
  const creationDate = torrent.metainfo.creationDate
  return creationDate === undefined ? listedAt : creationDate * 1000
}

/**
 * The newest `maxItems` of `torrents`, newest first (ties by infohash, so the order never depends on
 * the catalog's). Only those few are encoded to measure their `.torrent`.
 */
export function feedEntries (torrents: Iterable<PublishedTorrent>, maxItems: number, publishedAt: (torrent: PublishedTorrent) => number): FeedEntry[] {
  // The box's own catalog torrent (`internal`) is for following boxes, not an item of the feed.
  const dated = [...torrents].filter((torrent) => torrent.internal !== true).map((torrent) => ({ torrent, at: publishedAt(torrent) }))
  dated.sort((a, b) => b.at - a.at || (a.torrent.metainfo.infoHash < b.torrent.metainfo.infoHash ? -1 : 1))
  return dated.slice(0, maxItems).map(({ torrent, at }) => entryOf(torrent, at))
}

function entryOf ({ metainfo }: PublishedTorrent, publishedAt: number): FeedEntry {
  const title = xmlText(metainfo.name)
  return {
    id: `urn:btih:${metainfo.infoHash}`,
    infoHash: metainfo.infoHash,
    title,
    publishedAt: new Date(publishedAt),
    torrentPath: `/torrents/${metainfo.infoHash}.torrent`,
    torrentBytes: encodeTorrent(metainfo).length,
    // The name as the feed shows it: a lone surrogate, which encodeURIComponent refuses, is U+FFFD here.
    magnet: magnetUri({ ...metainfo, name: title }),
    contentBytes: metainfo.totalBytes,
    fileCount: metainfo.files.length
  }
}

/** A feed as served from one origin: the entries with absolute URLs, and the feed's own. */
export interface FeedDocument {
  readonly title: string
  readonly description: string
  /** The status page. */
  readonly homeUrl: string
  readonly rssUrl: string
  readonly jsonUrl: string
  /** When the entries last changed: RSS `lastBuildDate` and HTTP `Last-Modified`. */
  readonly updatedAt: Date
  readonly items: readonly FeedItem[]
}

export interface FeedItem extends FeedEntry {
  /** The item's page: the status page (an item has no page of its own). */
  readonly pageUrl: string
  readonly torrentUrl: string
  /** One line about the content: size and files. */
  readonly summary: string
}

export const RSS_PATH = '/feed.xml'
export const JSON_FEED_PATH = '/feed.json'

/** The feed of `entries` for a subscriber that reaches the box at `origin` (`http://host:port`). */
export function feedDocument (entries: readonly FeedEntry[], { origin, boxName, updatedAt }: { origin: string, boxName: string, updatedAt: Date }): FeedDocument {
  const name = xmlText(boxName)
  const homeUrl = `${origin}/`
  return {
    title: `${name}: published torrents`,
    description: `What the evertorrent box ${name} publishes over BitTorrent, newest first: a .torrent and a magnet link each.`,
    homeUrl,
    rssUrl: origin + RSS_PATH,
    jsonUrl: origin + JSON_FEED_PATH,
    updatedAt,
    items: entries.map((entry) => ({
      ...entry,
      pageUrl: homeUrl,
      torrentUrl: origin + entry.torrentPath,
      summary: `${sizeText(entry.contentBytes)} in ${entry.fileCount === 1 ? 'one file' : `${entry.fileCount.toLocaleString('en-US')} files`}`
    }))
  }
}

const UNITS = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'] as const

function sizeText (bytes: number): string {
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024
    unit++
  }
  return unit === 0 ? `${bytes} bytes` : `${value.toFixed(value < 10 ? 1 : 0)} ${UNITS[unit]!}`
}
