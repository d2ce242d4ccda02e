import type { PeerEndpoint } from '../download/download.js'
import type { UpstreamItem } from './mirror-plan.js'

/** What one poll of a followed box found: the items it lists, and the entries refused as malformed. */
export interface UpstreamListing {
  readonly items: readonly UpstreamItem[]
  /** Why each refused entry was refused (never downloaded). */
  readonly refused: readonly string[]
}

/**
 * A followed box as one of its publications shows it (its feed, or its catalog found by public key):
 * what it lists now, and for an item its torrent and where its peers are.
 */
export interface UpstreamSource {
  /** How the config names the box: its feed URL or its public key. */
  readonly origin: string
  /** Rejects with a MirrorError on a transient failure (unreachable, too slow) or a refused listing. */
  list: (signal: AbortSignal) => Promise<UpstreamListing>
  /**
   * The item's `.torrent`, checked to hash to its infohash (ET_MIRROR_REFUSED otherwise), or undefined
   * when this source has none: the info dictionary then comes from peers (BEP 9).
   */
  torrentOf: (item: UpstreamItem, signal: AbortSignal) => Promise<Uint8Array | undefined>
  /** Peers of the item now (trackers, DHT); web seeds come from the torrent itself. */
  peersOf: (item: UpstreamItem, torrent: Uint8Array | undefined, signal: AbortSignal) => Promise<PeerEndpoint[]>
}
