import Server, { type AnnounceParams, type ServerOptions, type Swarm, type SwarmAnnounceResult } from 'bittorrent-tracker/server'

/**
 * bittorrent-tracker's swarm (its peer store: LRU with expiry, seeder and leecher counts), counting
 * completed downloads too and reporting every announce it accepts, whatever the transport.
 */
export class TrackedSwarm extends Server.Swarm {
  /** `completed` events seen, BEP 48's `downloaded`. */
  completed = 0
  /** Its peers as the server last counted them (the LRU can also drop expired peers between announces). */
  counted = 0
  private readonly server: TrackedSwarmServer

  constructor (infoHash: string, server: TrackedSwarmServer) {
    super(infoHash, server)
    this.server = server
  }

  /** Peers held, stale ones not yet expired included. */
  get peerCount (): number {
    return this.peers.length
  }

  override announce (params: AnnounceParams, cb?: (err: Error | null, result?: SwarmAnnounceResult) => void): void {
    super.announce(params, (err, result) => {
      if (err === null) {
        if (params.event === 'completed') this.completed += 1
        this.server.announced(this, params)
      }
      cb?.(err, result)
    })
  }
}

export interface SwarmBounds {
  /** Swarms of torrents not published here at most (`tracker.max_swarms`). */
  readonly maxSwarms: number
  /** Peers in all swarms at most (`tracker.max_peers`), as long as a swarm of a torrent not published here is left to drop. */
  readonly maxPeers: number
  /** True for a published torrent: its swarm is never dropped to make room. */
  readonly isPublished: (infoHash: string) => boolean
}

/**
 * bittorrent-tracker's server making `TrackedSwarm`s, through its documented `createSwarm` extension
 * point, and keeping the swarms bounded: an open tracker must not grow with every random infohash a
 * stranger announces. Swarms of torrents not published here are kept in the order they were last
 * announced to; beyond `maxSwarms` of them, or beyond `maxPeers` peers in all, the least recently
 * announced one is dropped. (Each swarm's own peers are bounded by bittorrent-tracker's LRU,
 * `peersCacheLength`.)
 */
export class TrackedSwarmServer extends Server {
  private readonly onAnnounce: (swarm: TrackedSwarm, params: AnnounceParams) => void
  private readonly bounds: SwarmBounds
  /** Swarms of torrents not published here, least recently announced first (a Map keeps insertion order). */
  private readonly foreign = new Map<string, TrackedSwarm>()
  private peers = 0

  constructor (options: ServerOptions, bounds: SwarmBounds, onAnnounce: (swarm: TrackedSwarm, params: AnnounceParams) => void) {
    super(options)
    this.bounds = bounds
    this.onAnnounce = onAnnounce
  }

  /** Peers held in all swarms. */
  get peerCount (): number {
    return this.peers
  }

  /** Swarms held of torrents not published here. */
  get foreignSwarmCount (): number {
    return this.foreign.size
  }

  /** The swarm of `infoHash`, created if there is none. */
  swarm (infoHash: string): TrackedSwarm {
    const existing = this.torrents[infoHash]
    if (existing !== undefined) return existing as TrackedSwarm
    const swarm = new TrackedSwarm(infoHash, this)
    this.torrents[infoHash] = swarm
    return swarm
  }

  /** Forgets the swarm of `infoHash` and its peers. */
  drop (infoHash: string): void {
    const swarm = this.torrents[infoHash] as TrackedSwarm | undefined
    if (swarm === undefined) return
    delete this.torrents[infoHash]
    this.foreign.delete(infoHash)
    this.peers -= swarm.counted
  }

  override createSwarm (infoHash: string, cb: (err: Error | null, swarm?: Swarm) => void): void {
    process.nextTick(() => { cb(null, this.swarm(infoHash)) })
  }

  /** Called by a swarm after each announce it accepted. */
  announced (swarm: TrackedSwarm, params: AnnounceParams): void {
    // A swarm dropped meanwhile (a WebSocket's goodbye after eviction) is no longer counted.
    if (this.torrents[swarm.infoHash] === swarm) {
      this.peers += swarm.peerCount - swarm.counted
      swarm.counted = swarm.peerCount
      this.foreign.delete(swarm.infoHash)
      if (!this.bounds.isPublished(swarm.infoHash)) this.foreign.set(swarm.infoHash, swarm)
      this.evict()
    }
    this.onAnnounce(swarm, params)
  }

  private evict (): void {
    for (const [infoHash] of this.foreign) {
      if (this.foreign.size <= this.bounds.maxSwarms && this.peers <= this.bounds.maxPeers) return
      // Published since it was last announced to: never dropped, and no longer counted as foreign.
      if (this.bounds.isPublished(infoHash)) this.foreign.delete(infoHash)
      else this.drop(infoHash)
    }
  }
}
