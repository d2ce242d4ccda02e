import Server, { type AnnounceParams, type ServerOptions, type Swarm, type SwarmAnnounceResult } from 'bittorrent-tracker/server'

/**
 * bittorrent-tracker's swarm (its peer store: LRU with expiry, seeder and leecher counts), counting
 * completed downloads too and reporting every announce it accepts, whatever the transport.
 */
export class TrackedSwarm extends Server.Swarm {
  /** `completed` events seen, BEP 48's `downloaded`. */
  completed = 0
  private readonly onAnnounce: (swarm: TrackedSwarm, params: AnnounceParams) => void

  constructor (infoHash: string, server: Server, onAnnounce: (swarm: TrackedSwarm, params: AnnounceParams) => void) {
    super(infoHash, server)
    this.onAnnounce = onAnnounce
  }

  override announce (params: AnnounceParams, cb?: (err: Error | null, result?: SwarmAnnounceResult) => void): void {
    super.announce(params, (err, result) => {
      if (err === null) {
        if (params.event === 'completed') this.completed += 1
        this.onAnnounce(this, params)
      }
      cb?.(err, result)
    })
  }
}

/** bittorrent-tracker's server making `TrackedSwarm`s, through its documented `createSwarm` extension point. */
export class TrackedSwarmServer extends Server {
  private readonly onAnnounce: (swarm: TrackedSwarm, params: AnnounceParams) => void

  constructor (options: ServerOptions, onAnnounce: (swarm: TrackedSwarm, params: AnnounceParams) => void) {
    super(options)
    this.onAnnounce = onAnnounce
  }

  /** The swarm of `infoHash`, created if there is none. */
  swarm (infoHash: string): TrackedSwarm {
    const existing = this.torrents[infoHash]
    if (existing !== undefined) return existing as TrackedSwarm
    const swarm = new TrackedSwarm(infoHash, this, this.onAnnounce)
    this.torrents[infoHash] = swarm
    return swarm
  }

  override createSwarm (infoHash: string, cb: (err: Error | null, swarm?: Swarm) => void): void {
    process.nextTick(() => { cb(null, this.swarm(infoHash)) })
  }
}
