import { parseTorrent } from '../metainfo/metainfo.js'
import type { PeerEndpoint } from '../download/download.js'
import { boundedGet } from './bounded-get.js'
import { parseJsonFeed, type FeedEntry } from './json-feed-listing.js'
import { MirrorError } from './mirror-errors.js'
import type { UpstreamItem } from './mirror-plan.js'
import { trackerPeers, type AnnounceRequest } from './tracker-peers.js'
import type { UpstreamListing, UpstreamSource } from './upstream-source.js'

export interface FeedSourceOptions {
  readonly feedUrl: string
  readonly maxFeedBytes: number
  readonly maxTorrentBytes: number
  readonly maxItems: number
  readonly timeoutMs: number
  /** What this box tells the followed box's tracker about itself. */
  readonly announce: Omit<AnnounceRequest, 'infoHash' | 'left'>
}

/**
 * A box followed by its JSON Feed (`/feed.json`): each entry's `.torrent` is fetched from the URL the
 * feed gives and kept only if it hashes to the infohash the entry states; peers come from the
 * torrent's HTTP trackers, its web seeds from its url-list (the download reads them itself).
 */
export class FeedSource implements UpstreamSource {
  readonly origin: string
  private entries = new Map<string, FeedEntry>()

  constructor (private readonly options: FeedSourceOptions) {
    this.origin = options.feedUrl
  }

  async list (signal: AbortSignal): Promise<UpstreamListing> {
    const body = await boundedGet(this.options.feedUrl, { maxBytes: this.options.maxFeedBytes, timeoutMs: this.options.timeoutMs, signal })
    let parsed: ReturnType<typeof parseJsonFeed>
    try {
      parsed = parseJsonFeed(body.toString('utf8'), this.options.feedUrl, this.options.maxItems)
    } catch (error) {
      throw new MirrorError('ET_MIRROR_REFUSED', `${this.options.feedUrl}: ${error instanceof Error ? error.message : String(error)}`)
    }
    this.entries = new Map(parsed.entries.map((entry) => [entry.infoHash, entry]))
    return { items: parsed.entries.map(({ infoHash, name, bytes }) => ({ infoHash, name, bytes })), refused: parsed.refused }
  }

  async torrentOf (item: UpstreamItem, signal: AbortSignal): Promise<Uint8Array> {
    const entry = this.entries.get(item.infoHash)
    if (entry === undefined) throw new MirrorError('ET_MIRROR_UNREACHABLE', `${item.infoHash} is no longer in ${this.options.feedUrl}`)
    const bytes = await boundedGet(entry.torrentUrl, { maxBytes: this.options.maxTorrentBytes, timeoutMs: this.options.timeoutMs, signal })
    let infoHash: string
    try {
      infoHash = parseTorrent(bytes).infoHash
    } catch (error) {
      throw new MirrorError('ET_MIRROR_REFUSED', `${entry.torrentUrl} is not a valid .torrent: ${error instanceof Error ? error.message : String(error)}`)
    }
    if (infoHash !== item.infoHash) throw new MirrorError('ET_MIRROR_REFUSED', `${entry.torrentUrl} hashes to ${infoHash}, not to the infohash its feed entry states (${item.infoHash})`)
    return bytes
  }

  async peersOf (item: UpstreamItem, torrent: Uint8Array | undefined, signal: AbortSignal): Promise<PeerEndpoint[]> {
    if (torrent === undefined) return []
    const announceUrls = parseTorrent(torrent).announceList.flat().filter((url) => url.startsWith('http'))
    const answers = await Promise.all(announceUrls.slice(0, 8).map(async (url) => await trackerPeers(url, { ...this.options.announce, infoHash: item.infoHash, left: item.bytes }, signal)))
    return answers.flat()
  }
}
