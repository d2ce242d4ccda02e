import { EventEmitter } from 'node:events'
import type { ItemState, ItemStatus } from '../catalog/item-status.js'

export type ServicePhase = 'booting' | 'running' | 'reloading' | 'stopping'

/** A library: a folder from the config, or a drive mounted under the media root. */
export interface LibraryView {
  readonly path: string
  readonly kind: 'folder' | 'drive'
  /**
   * Drives: `present` while mounted, `ejected` once unmounted on request (safe to pull), `removed`
   * once gone otherwise; the items of both are offline.
   */
  readonly state: 'present' | 'missing' | 'removed' | 'ejected'
}

export interface SwarmCounts {
  readonly seeders: number
  readonly leechers: number
  readonly completed: number
}

/** One published (or failing) item, as every view shows it. */
export interface ItemView {
  readonly path: string
  readonly name: string
  readonly library: string
  readonly state: ItemState
  readonly infoHash?: string
  readonly totalBytes?: number
  readonly bytesHashed?: number
  readonly error?: { readonly code: string, readonly message: string }
  /** Peers connected to the everseed for this torrent. */
  readonly peers: number
  /** Bytes per second over the last few seconds, BitTorrent and web seed together. */
  readonly uploadRate: number
  readonly uploadedBytes: number
  readonly swarm: SwarmCounts
}

/** One port the router forwards to the box. */
export interface MappingView {
  readonly protocol: 'tcp' | 'udp'
  readonly internalPort: number
  readonly externalPort: number
  /** What the port is for: `peer`, `tracker`, `http`, `dht`. */
  readonly purpose: string
  /** When the router's lease ends, ms since the epoch, unless it is permanent. */
  readonly expiresAt?: number
}

/** How the box is reached from beyond the LAN. */
export interface ReachabilityView {
  /** The host torrents name after the LAN one; absent while the box is published on the LAN only. */
  readonly publicHost?: string
  /** Port mapping on the router: `off`, `searching`, `mapped`, `no-gateway`, `failed`. */
  readonly router: {
    readonly state: string
    readonly method?: string
    readonly externalAddress?: string
    readonly error?: string
    readonly mappings: readonly MappingView[]
  }
  /** The mainline DHT: nodes in the routing table, infohashes announced. */
  readonly dht: { readonly enabled: boolean, readonly nodes: number, readonly announced: number }
  /** Peers connected to the everseed now, by whether their connection is encrypted (MSE/PE). */
  readonly peers: { readonly encrypted: number, readonly plain: number }
}

export interface StatusSnapshot {
  readonly phase: ServicePhase
  readonly startedAt: number
  readonly libraries: readonly LibraryView[]
  readonly items: readonly ItemView[]
  readonly totals: {
    readonly items: number
    readonly seeding: number
    readonly hashing: number
    readonly errors: number
    readonly bytesPublished: number
    readonly bytesUploaded: number
    readonly uploadRate: number
    readonly peers: number
  }
  /** When bytes last went out, for the activity blink. */
  readonly lastUploadAt: number | undefined
  /** The last drives went by eject, and none is mounted: it is safe to pull them (until a drive is mounted again). */
  readonly safeToRemove: boolean
  readonly reachability: ReachabilityView
}

export interface StatusModelEvents {
  change: [snapshot: StatusSnapshot]
}

interface ItemRecord {
  status: ItemStatus
  uploadedBytes: number
}

interface TorrentActivity {
  peers: number
  swarm: SwarmCounts
  /** Bytes sent in each of the last RATE_WINDOW seconds, newest last. */
  recent: number[]
}

const RATE_WINDOW_S = 5
const NO_SWARM: SwarmCounts = { seeders: 0, leechers: 0, completed: 0 }

/**
 * The single in-memory truth of what the appliance is doing. Engines' events are folded in through
 * the methods below; views (logs, LEDs, systemd STATUS=, the web page, metrics) read `snapshot()` or
 * listen to 'change', which is coalesced to at most one per `minIntervalMs`.
 */
export class StatusModel extends EventEmitter<StatusModelEvents> {
  private phase: ServicePhase = 'booting'
  private readonly startedAt: number
  private libraries: LibraryView[] = []
  private readonly items = new Map<string, ItemRecord>()
  private readonly activity = new Map<string, TorrentActivity>()
  private bytesUploaded = 0
  private lastUploadAt: number | undefined
  private safeToRemove = false
  private publicHost: string | undefined
  private router: ReachabilityView['router'] = { state: 'off', mappings: [] }
  private dht: ReachabilityView['dht'] = { enabled: false, nodes: 0, announced: 0 }
  private readonly peerConnections = { encrypted: 0, plain: 0 }
  /** Drives unmounted on request, by library, until they are mounted again. */
  private readonly ejected = new Set<string>()
  private pending: NodeJS.Timeout | undefined
  private readonly ticker: NodeJS.Timeout

  constructor (private readonly now: () => number = Date.now, private readonly minIntervalMs = 200) {
    super()
    this.startedAt = now()
    this.ticker = setInterval(() => { this.tick() }, 1000).unref()
  }

  close (): void {
    clearInterval(this.ticker)
    clearTimeout(this.pending)
  }

  setPhase (phase: ServicePhase): void {
    this.phase = phase
    this.changed()
  }

  setLibraries (libraries: readonly LibraryView[]): void {
    for (const library of libraries) if (library.state === 'present') this.ejected.delete(library.path)
    this.libraries = libraries.map((library) => this.withEjected(library))
    if (libraries.some((library) => library.kind === 'drive' && library.state === 'present')) this.safeToRemove = false
    this.changed()
  }

  /** After an eject that unmounted every drive. */
  setSafeToRemove (): void {
    this.safeToRemove = true
    this.changed()
  }

  /**
   * After an eject that unmounted the drive of `library`: it shows `ejected`, not as a fault, until it
   * is mounted again. Safe to remove once no other drive is mounted: one LED cannot say which drive
   * may go, so it never says "safe" while another one still must not be pulled.
   */
  driveEjected (library: string): void {
    this.ejected.add(library)
    this.libraries = this.libraries.map((view) => this.withEjected(view))
    if (!this.libraries.some((view) => view.kind === 'drive' && view.state === 'present' && view.path !== library)) this.safeToRemove = true
    this.changed()
  }

  item (status: ItemStatus): void {
    const record = this.items.get(status.path)
    if (record !== undefined && record.status.infoHash !== status.infoHash) record.uploadedBytes = 0
    this.items.set(status.path, { status, uploadedBytes: record?.uploadedBytes ?? 0 })
    this.changed()
  }

  itemRemoved (path: string): void {
    if (this.items.delete(path)) this.changed()
  }

  peers (infoHash: string, change: 1 | -1, encrypted = false): void {
    const activity = this.activityOf(infoHash)
    activity.peers = Math.max(0, activity.peers + change)
    const kind = encrypted ? 'encrypted' : 'plain'
    this.peerConnections[kind] = Math.max(0, this.peerConnections[kind] + change)
    this.changed()
  }

  setPublicHost (host: string | undefined): void {
    this.publicHost = host
    this.changed()
  }

  setRouter (router: ReachabilityView['router']): void {
    this.router = router
    this.changed()
  }

  setDht (dht: ReachabilityView['dht']): void {
    this.dht = dht
    this.changed()
  }

  uploaded (infoHash: string, bytes: number): void {
    const activity = this.activityOf(infoHash)
    activity.recent[activity.recent.length - 1]! += bytes
    this.bytesUploaded += bytes
    this.lastUploadAt = this.now()
    for (const record of this.items.values()) {
      if (record.status.infoHash === infoHash) record.uploadedBytes += bytes
    }
    this.changed()
  }

  swarm (infoHash: string, counts: SwarmCounts): void {
    this.activityOf(infoHash).swarm = counts
    this.changed()
  }

  snapshot (): StatusSnapshot {
    const items = [...this.items.values()].map((record) => this.itemView(record)).sort((a, b) => a.path.localeCompare(b.path))
    const count = (state: ItemView['state']): number => items.filter((item) => item.state === state).length
    return {
      phase: this.phase,
      startedAt: this.startedAt,
      libraries: this.libraries,
      items,
      totals: {
        items: items.length,
        seeding: count('seeding'),
        hashing: count('hashing'),
        errors: count('error'),
        bytesPublished: items.reduce((sum, item) => sum + (item.state === 'seeding' ? item.totalBytes ?? 0 : 0), 0),
        bytesUploaded: this.bytesUploaded,
        uploadRate: [...this.activity.values()].reduce((sum, activity) => sum + rateOf(activity), 0),
        peers: [...this.activity.values()].reduce((sum, activity) => sum + activity.peers, 0)
      },
      lastUploadAt: this.lastUploadAt,
      safeToRemove: this.safeToRemove,
      reachability: {
        ...(this.publicHost !== undefined && { publicHost: this.publicHost }),
        router: this.router,
        dht: this.dht,
        peers: { ...this.peerConnections }
      }
    }
  }

  private itemView ({ status, uploadedBytes }: ItemRecord): ItemView {
    const activity = status.infoHash === undefined ? undefined : this.activity.get(status.infoHash)
    return {
      path: status.path,
      name: status.name,
      library: status.library,
      state: status.state,
      ...(status.infoHash !== undefined && { infoHash: status.infoHash }),
      ...(status.totalBytes !== undefined && { totalBytes: status.totalBytes }),
      ...(status.bytesHashed !== undefined && { bytesHashed: status.bytesHashed }),
      ...(status.error !== undefined && { error: status.error }),
      peers: activity?.peers ?? 0,
      uploadRate: activity === undefined ? 0 : rateOf(activity),
      uploadedBytes,
      swarm: activity?.swarm ?? NO_SWARM
    }
  }

  /** A drive that is not mounted shows `ejected` when it went on request. */
  private withEjected (library: LibraryView): LibraryView {
    return library.kind === 'drive' && library.state === 'removed' && this.ejected.has(library.path) ? { ...library, state: 'ejected' } : library
  }

  private activityOf (infoHash: string): TorrentActivity {
    let activity = this.activity.get(infoHash)
    if (activity === undefined) {
      activity = { peers: 0, swarm: NO_SWARM, recent: new Array<number>(RATE_WINDOW_S).fill(0) }
      this.activity.set(infoHash, activity)
    }
    return activity
  }

  /** Slides the rate windows by one second; forgets torrents that are quiet and no longer published. */
  private tick (): void {
    const published = new Set<string | undefined>([...this.items.values()].map((record) => record.status.infoHash))
    let moving = false
    for (const [infoHash, activity] of this.activity) {
      if (activity.recent.some((bytes) => bytes > 0)) moving = true
      activity.recent.shift()
      activity.recent.push(0)
      if (!published.has(infoHash) && activity.peers === 0 && activity.recent.every((bytes) => bytes === 0)) this.activity.delete(infoHash)
    }
    if (moving) this.changed()
  }

  private changed (): void {
    if (this.pending !== undefined) return
    this.pending = setTimeout(() => {
      this.pending = undefined
      this.emit('change', this.snapshot())
    }, this.minIntervalMs)
    this.pending.unref()
  }
}

function rateOf (activity: TorrentActivity): number {
  // The newest second is still filling; the rate is over the complete ones.
  const complete = activity.recent.slice(0, -1)
  return Math.round(complete.reduce((sum, bytes) => sum + bytes, 0) / complete.length)
}
