import { join } from 'node:path'
import type { Catalog } from '../catalog/catalog.js'
import type { MirrorEntry } from '../config/mirror-entries.js'
import type { Settings } from '../config/settings.js'
import { downloadLimitsFrom } from '../download/download-limits.js'
import type { InfoHash } from '../metainfo/metainfo.js'
import type { Logger } from '../platform/logger.js'
import { SeenPointers } from '../dht/seen-pointers.js'
import { CatalogSource, type PeerFinder } from './catalog-source.js'
import { FeedSource } from './feed-source.js'
import { Follower, type MirrorSnapshot } from './follower.js'
import { MirrorError } from './mirror-errors.js'
import type { UpstreamSource } from './upstream-source.js'

/** A followed box's feed is refused beyond this size (an evertorrent feed lists at most feed.max_items). */
export const MAX_MIRROR_FEED_BYTES = 16 * 1024 * 1024
/** A followed item's .torrent is refused beyond this size. */
export const MAX_MIRROR_TORRENT_BYTES = 8 * 1024 * 1024
/** Items of one followed box's listing taken at most. */
export const MAX_MIRROR_ITEMS = 10_000
const FETCH_TIMEOUT_MS = 30_000

export interface MirrorsOptions {
  readonly settings: Settings
  readonly catalog: Catalog
  readonly trackersFor: (infoHash: InfoHash) => { announceList: string[][], urlList: string[] }
  /** Where the everseed listens, told to the followed box's tracker. */
  readonly peerPort: number
  readonly peerId: Buffer
  /** The DHT, to follow a box by its public key; absent when it is off. */
  readonly dht?: PeerFinder
  readonly logger: Logger
}

/** Every `[[mirror]]` of the config, each followed by its own Follower. */
export class Mirrors {
  private readonly followers: Follower[]

  constructor (options: MirrorsOptions) {
    const { settings } = options
    const stateFolder = join(settings['state.dir'], 'mirrors')
    let seen: Promise<SeenPointers> | undefined
    const openSeen = async (): Promise<SeenPointers> => await (seen ??= SeenPointers.open(join(stateFolder, 'seen-pointers.json')))
    this.followers = settings.mirror.map((entry) => new Follower({
      entry,
      source: sourceOf(entry, options, stateFolder, openSeen),
      stateFolder,
      catalog: options.catalog,
      trackersFor: options.trackersFor,
      downloadLimits: downloadLimitsFrom(settings),
      log: options.logger.log
    }))
  }

  async start (): Promise<void> {
    for (const follower of this.followers) await follower.start()
  }

  snapshot (): MirrorSnapshot[] {
    return this.followers.map((follower) => follower.snapshot())
  }

  async close (): Promise<void> {
    await Promise.all(this.followers.map(async (follower) => { await follower.close() }))
  }
}

function sourceOf (entry: MirrorEntry, options: MirrorsOptions, stateFolder: string, seen: () => Promise<SeenPointers>): UpstreamSource {
  if (entry.feed !== undefined) {
    return new FeedSource({
      feedUrl: entry.feed,
      maxFeedBytes: MAX_MIRROR_FEED_BYTES,
      maxTorrentBytes: MAX_MIRROR_TORRENT_BYTES,
      maxItems: MAX_MIRROR_ITEMS,
      timeoutMs: FETCH_TIMEOUT_MS,
      announce: { peerId: options.peerId, port: options.peerPort }
    })
  }
  const publicKey = entry.publicKey!
  if (options.dht !== undefined) {
    return new CatalogSource({ publicKey, dht: options.dht, seen, folder: join(stateFolder, 'catalogs', publicKey), limits: downloadLimitsFrom(options.settings), republishMs: options.settings['identity.republish_interval'] * 1000 })
  }
  const off = async (): Promise<never> => { throw new MirrorError('ET_MIRROR_NO_DHT', `following ${publicKey} by public key needs the DHT: set dht.enabled = true (or follow its feed URL instead)`) }
  return { origin: publicKey, list: off, torrentOf: off, peersOf: off }
}
