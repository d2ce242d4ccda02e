export interface SwarmBounds {
  /** Swarms of torrents not published here at most (`tracker.max_swarms`). */
  readonly maxSwarms: number
  /** Peers in all swarms at most (`tracker.max_peers`), as long as a swarm of a torrent not published here is left to drop. */
  readonly maxPeers: number
  /** True for a published torrent: its swarm is never dropped to make room. */
  readonly isPublished: (infoHash: string) => boolean
}

/**
 * Keeps the tracker's swarms bounded: an open tracker must not grow with every random infohash a
 * stranger announces. Swarms of torrents not published here are kept in the order they were last
 * announced to; beyond `maxSwarms` of them, or beyond `maxPeers` peers in all, the least recently
 * announced one is dropped. (Each swarm's own peers are bounded by the swarm, see `maxPeersPerSwarm`.)
 */
export class SwarmBudget {
  private readonly bounds: SwarmBounds
  /** Swarms of torrents not published here, least recently announced first (a Set keeps insertion order). */
  private readonly foreign = new Set<string>()
  /** Each swarm's peers as last counted (a swarm can also drop expired peers between announces). */
  private readonly counted = new Map<string, number>()
  private peers = 0

  constructor (bounds: SwarmBounds) {
    this.bounds = bounds
  }

  /** Peers held in all swarms, and swarms held of torrents not published here. */
  get size (): { readonly peers: number, readonly foreignSwarms: number } {
    return { peers: this.peers, foreignSwarms: this.foreign.size }
  }

  /**
   * Counts an announce the swarm of `infoHash` accepted, after which it holds `peers` peers. Returns
   * the swarms to drop to stay within the bounds, already forgotten here.
   */
  announced (infoHash: string, peers: number): string[] {
    this.peers += peers - (this.counted.get(infoHash) ?? 0)
    this.counted.set(infoHash, peers)
    this.foreign.delete(infoHash)
    if (!this.bounds.isPublished(infoHash)) this.foreign.add(infoHash)
    return this.overflow()
  }

  /** The swarm of `infoHash` now holds `peers` peers, fewer after expiry; its place in line stays. */
  recount (infoHash: string, peers: number): void {
    if (!this.counted.has(infoHash)) return
    this.peers += peers - this.counted.get(infoHash)!
    this.counted.set(infoHash, peers)
  }

  /** Forgets the swarm of `infoHash`, dropped for another reason. */
  forget (infoHash: string): void {
    this.peers -= this.counted.get(infoHash) ?? 0
    this.counted.delete(infoHash)
    this.foreign.delete(infoHash)
  }

  private overflow (): string[] {
    const dropped: string[] = []
    for (const infoHash of this.foreign) {
      if (this.foreign.size <= this.bounds.maxSwarms && this.peers <= this.bounds.maxPeers) break
      // Published since it was last announced to: never dropped, and no longer counted as foreign.
      if (this.bounds.isPublished(infoHash)) {
        this.foreign.delete(infoHash)
      } else {
        this.forget(infoHash)
        dropped.push(infoHash)
      }
    }
    return dropped
  }
}
