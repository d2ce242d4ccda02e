import { EventEmitter } from 'node:events'
import { isIPv4 } from 'node:net'
import { join } from 'node:path'
import type { Catalog, PublishedTorrent } from '../catalog/catalog.js'
import { ConfigError, type Settings } from '../config/settings.js'
import type { InfoHash } from '../metainfo/metainfo.js'
import { AnnounceSchedule } from './announce-schedule.js'
import type { DhtNode } from './dht-node.js'
import { readDhtState, writeDhtState, type DhtState } from './dht-state.js'
import { GuardedSocket } from './guarded-socket.js'
import { mutableTarget, type MutableItem } from './mutable-item.js'
import type { MutableReply } from './resolve-catalog-pointer.js'

/** What the status page shows of the DHT. */
export interface DhtSnapshot {
  readonly enabled: boolean
  /** The UDP port, once bound. */
  readonly port: number | undefined
  /** Nodes in the routing table. */
  readonly nodes: number
  /** Published infohashes announced at least once and not withdrawn since. */
  readonly announced: number
  /** Date.now() of the last announce some node took. */
  readonly lastAnnounceAt?: number
  /** The routing table has nodes: the DHT can be asked and told. */
  readonly bootstrapped: boolean
}

export interface DhtEvents {
  /** The snapshot changed; at most one a second. */
  change: [snapshot: DhtSnapshot]
  /** The routing table went from empty to `nodes` nodes (at start, or after losing every node). */
  bootstrapped: [nodes: number]
  /** Logged, never fatal: a damaged state file, a failed save, a socket error, hostile datagrams. */
  warning: [warning: { readonly code: DhtWarningCode, readonly message: string }]
}

export type DhtWarningCode = 'ET_DHT_STATE' | 'ET_DHT_SOCKET' | 'ET_DHT_DROPPED'

export interface DhtOptions {
  readonly enabled: boolean
  /** UDP port to bind; 0 for any. */
  readonly port: number
  /** When `port` is taken, bind any free port instead of failing (the port number merely followed an ephemeral TCP one). */
  readonly anyPortIfTaken: boolean
  /** Address to bind: bittorrent-dht speaks IPv4 only, so an IPv6 one leaves the DHT off (with a warning). */
  readonly host: string
  /**
   * The IPv4 address the everseed is reached at, listed in our own answers to get_peers for our
   * torrents; undefined when it is not known (listening on every address behind a name): the nodes
   * we announce to still list us, at the address they saw us from.
   */
  readonly ownHost: string | undefined
  /** The TCP port peers reach the everseed on. */
  readonly peerPort: number
  readonly bootstrap: readonly string[]
  readonly announceIntervalMs: number
  readonly maxPeers: number
  readonly maxLookups: number
  /** BEP 44 items stored for other nodes at most. */
  readonly maxItems: number
  /** Where dht.json is kept. */
  readonly stateDir: string
  readonly catalog: Catalog
  readonly now?: () => number
  /** Default ANNOUNCE_SPACING_MS; tests of re-announces shorten it. */
  readonly announceSpacingMs?: number
}

/** Announces in flight at most: 1,000 published torrents are announced a few at a time, never in one burst. */
export const ANNOUNCE_CONCURRENCY = 4
/**
 * An announce starts this long after the one before at the soonest: 1,000 torrents take 8 minutes,
 * inside the 15-minute interval, about the pace the internet's round trips allow four at a time
 * anyway. Unpaced on a fast network they came 50 a second, and the garbage of their datagrams
 * outlived the young generation: 12 MB more RSS until a full GC (scripts/bench-dht.ts).
 */
export const ANNOUNCE_SPACING_MS = 500
/** An announce no node took (no nodes yet, or none answered) is tried again this soon. */
const RETRY_MS = 60_000
/** While the routing table is empty, the bootstrap nodes are asked again this often. */
const REJOIN_MS = 30_000
/** The routing table is saved this often, and at close. */
const SAVE_INTERVAL_MS = 10 * 60_000
/** Peers stored for others expire 45 minutes after their last announce, as in libtorrent (1.5 × its 30-minute announce interval). */
const PEER_MAX_AGE_MS = 45 * 60_000
const CHANGE_EVERY_MS = 1000

const DHT_STATE_FILE = 'dht.json'

/** `host:port` of a bootstrap node: a name or an IPv4 address (the DHT speaks IPv4 only), and a port. */
const BOOTSTRAP_NODE = /^[^\s:[\]]+:(\d{1,5})$/

/** The DHT engine's options from the settings, once the seeder's port is known. */
export function dhtOptionsFrom (settings: Settings, peerPort: number): Omit<DhtOptions, 'catalog'> {
  for (const node of settings['dht.bootstrap']) {
    const port = Number(BOOTSTRAP_NODE.exec(node)?.[1] ?? 0)
    if (port < 1 || port > 65535) throw new ConfigError(`dht.bootstrap: "${node}" is not host:port (a name or an IPv4 address, a port from 1 to 65535)`, undefined, 'dht.bootstrap')
  }
  const listenHost = settings['network.listen_host']
  const announceHost = settings['network.announce_host']
  const everyAddress = listenHost === '' || listenHost === '0.0.0.0'
  return {
    enabled: settings['dht.enabled'],
    port: settings['dht.port'] === 0 ? peerPort : settings['dht.port'],
    anyPortIfTaken: settings['dht.port'] === 0 && settings['seeder.port'] === 0,
    host: everyAddress ? '0.0.0.0' : listenHost,
    ownHost: !everyAddress && isIPv4(listenHost) ? listenHost : isIPv4(announceHost) ? announceHost : undefined,
    peerPort,
    bootstrap: settings['dht.bootstrap'],
    announceIntervalMs: settings['dht.announce_interval'] * 1000,
    maxPeers: settings['dht.max_peers'],
    maxLookups: settings['dht.max_lookups'],
    maxItems: settings['dht.max_items'],
    stateDir: settings['state.dir']
  }
}

/**
 * The everseed in the mainline DHT (BEP 5): a node that keeps its id and routing table in the
 * state folder, announces every published torrent (again before DHT nodes forget it), lists itself
 * in its own answers for them, and stops announcing a withdrawn one. Disabled, it opens nothing.
 */
export class Dht extends EventEmitter<DhtEvents> {
  private readonly options: DhtOptions
  private readonly now: () => number
  private readonly schedule: AnnounceSchedule
  private readonly stateFile: string
  private node: DhtNode | undefined
  private boundPort: number | undefined
  private lastAnnounceAt: number | undefined
  /** When the last announce started, for ANNOUNCE_SPACING_MS. */
  private lastStartAt: number | undefined
  private bootstrapped = false
  private enabled: boolean
  private closed = false
  private readonly timers = new Set<NodeJS.Timeout>()
  private pumpTimer: NodeJS.Timeout | undefined
  private changeTimer: NodeJS.Timeout | undefined
  private readonly onAdded = (torrent: PublishedTorrent): void => this.publish(torrent)
  private readonly onRemoved = (torrent: PublishedTorrent): void => this.withdraw(torrent.metainfo.infoHash)

  constructor (options: DhtOptions) {
    super()
    this.options = options
    this.enabled = options.enabled
    this.now = options.now ?? Date.now
    this.schedule = new AnnounceSchedule(options.announceIntervalMs, RETRY_MS)
    this.stateFile = join(options.stateDir, DHT_STATE_FILE)
  }

  async start (): Promise<void> {
    if (!this.options.enabled) return
    if (!isIPv4(this.options.host)) {
      this.enabled = false
      this.warn('ET_DHT_SOCKET', `the DHT stays off: it speaks IPv4 only and network.listen_host is "${this.options.host}" (listen on an IPv4 address or every address, or set dht.enabled = false)`)
      return
    }
    const state = await this.readState()
    const node = await this.open(state)
    this.node = node
    this.boundPort = node.port
    this.every(SAVE_INTERVAL_MS, () => { void this.save() })
    this.every(REJOIN_MS, () => this.rejoinIfAlone())
    this.options.catalog.on('added', this.onAdded)
    this.options.catalog.on('removed', this.onRemoved)
    for (const torrent of this.options.catalog.all()) this.publish(torrent)
    // The nodes read back from dht.json are in the table already: rejoined without waiting for `ready`.
    this.noticeNodes()
  }

  snapshot (): DhtSnapshot {
    return {
      enabled: this.enabled,
      port: this.boundPort,
      nodes: this.node?.nodeCount ?? 0,
      announced: this.schedule.announcedCount,
      ...(this.lastAnnounceAt !== undefined && { lastAnnounceAt: this.lastAnnounceAt }),
      bootstrapped: this.bootstrapped
    }
  }

  /** Our node id, hex; undefined when disabled. */
  get nodeId (): string | undefined {
    return this.node?.nodeId.toString('hex')
  }

  /** BEP 44 put of a signed mutable item (see `DhtNode.putMutable`); rejects while the DHT is off or closed. */
  async putMutable (item: MutableItem): Promise<number> {
    return await this.openNode().putMutable(item, mutableTarget(item.k, item.salt))
  }

  /** BEP 44 get: the unchecked answers for `target` (see `DhtNode.getMutable`); rejects while the DHT is off or closed. */
  async getMutable (target: Buffer): Promise<MutableReply[]> {
    return await this.openNode().getMutable(target)
  }

  /** BEP 5 get_peers for a torrent this box fetches (a mirror): at most `max` peers; rejects while the DHT is off or closed. */
  async lookupPeers (infoHash: InfoHash, max: number): Promise<Array<{ host: string, port: number }>> {
    return await this.openNode().lookupPeers(infoHash, max)
  }

  private openNode (): DhtNode {
    if (this.node === undefined || this.closed) throw new Error('the DHT is off')
    return this.node
  }

  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.options.catalog.off('added', this.onAdded)
    this.options.catalog.off('removed', this.onRemoved)
    for (const timer of this.timers) clearInterval(timer)
    clearTimeout(this.pumpTimer)
    clearTimeout(this.changeTimer)
    const node = this.node
    if (node === undefined) return
    await this.save()
    // Announces under way are not waited for: a lookup that the closed socket cuts short never calls
    // back (k-rpc's lookup stops once destroyed), which held serve's exit until SIGKILL; they end as
    // no-ops (`closed`).
    await node.close()
  }

  private async readState (): Promise<DhtState | undefined> {
    const state = await readDhtState(this.stateFile)
    if (state === undefined || !('refused' in state)) return state
    this.warn('ET_DHT_STATE', `${this.stateFile} refused (${state.refused}); joining the DHT from the bootstrap nodes with a new node id`)
    return undefined
  }

  private async open (state: DhtState | undefined): Promise<DhtNode> {
    const { port, anyPortIfTaken } = this.options
    try {
      return await this.bind(state, port)
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (code === 'EADDRINUSE' && anyPortIfTaken) return await this.bind(state, 0)
      const why = code === 'EADDRINUSE' ? 'is in use by another program' : code === 'EACCES' ? 'may not be used by this user' : `cannot be opened (${code ?? String(error)})`
      throw new ConfigError(`dht.port: UDP port ${port} on ${this.options.host} ${why}; set dht.port to a free port (0: the seeder's port number)`, undefined, 'dht.port')
    }
  }

  private async bind (state: DhtState | undefined, port: number): Promise<DhtNode> {
    // Loaded here, not at start-up: bittorrent-dht and its dependencies take ~30 % of serve's imports, for nothing when the DHT is off.
    const { DhtNode } = await import('./dht-node.js')
    const socket = new GuardedSocket()
    socket.on('dropped', (remote, reason, error) => this.onDropped(`${remote.address}:${remote.port}`, reason, error))
    const node = new DhtNode({
      nodeId: state?.nodeId,
      bootstrap: this.options.bootstrap,
      socket,
      maxPeers: this.options.maxPeers,
      maxLookups: this.options.maxLookups,
      maxItems: this.options.maxItems,
      peerMaxAgeMs: PEER_MAX_AGE_MS
    })
    // Before bittorrent-dht's first lookup (on the next tick): with the saved nodes it needs no bootstrap node.
    for (const contact of state?.nodes ?? []) node.addContact(contact)
    try {
      await node.listen(port, this.options.host)
    } catch (error) {
      await node.close()
      throw error
    }
    node.on('error', (error) => this.warn('ET_DHT_SOCKET', `DHT socket: ${error.message}`))
    node.on('warning', (error) => this.onSocketWarning(error))
    node.on('node', () => this.noticeNodes())
    node.on('ready', () => this.noticeNodes())
    return node
  }

  private publish (torrent: PublishedTorrent): void {
    const { infoHash } = torrent.metainfo
    // BEP 27: a private torrent's peers come from its tracker alone.
    if (torrent.metainfo.private || this.schedule.has(infoHash)) return
    this.schedule.add(infoHash, this.now())
    const { ownHost, peerPort } = this.options
    if (ownHost !== undefined) this.node?.addOwnPeer(infoHash, ownHost, peerPort)
    this.pump()
  }

  private withdraw (infoHash: InfoHash): void {
    if (!this.schedule.has(infoHash)) return
    this.schedule.remove(infoHash)
    const { ownHost, peerPort } = this.options
    if (ownHost !== undefined) this.node?.removeOwnPeer(infoHash, ownHost, peerPort)
    this.changed()
  }

  /** Starts the announces that are due, up to ANNOUNCE_CONCURRENCY at once, and wakes up for the next. */
  private pump (): void {
    const node = this.node
    if (node === undefined || this.closed) return
    clearTimeout(this.pumpTimer)
    this.pumpTimer = undefined
    const now = this.now()
    const spacingMs = this.options.announceSpacingMs ?? ANNOUNCE_SPACING_MS
    const spaced = this.lastStartAt === undefined || now - this.lastStartAt >= spacingMs
    const slots = spaced ? Math.min(1, ANNOUNCE_CONCURRENCY - this.schedule.inFlightCount) : 0
    for (const infoHash of this.schedule.take(now, slots)) {
      this.lastStartAt = now
      void this.announce(node, infoHash)
    }
    const next = this.schedule.nextDueAt()
    if (next !== undefined && this.schedule.inFlightCount < ANNOUNCE_CONCURRENCY) {
      const spacing = this.lastStartAt === undefined ? 0 : this.lastStartAt + spacingMs - now
      this.pumpTimer = setTimeout(() => this.pump(), Math.max(0, next - now, spacing))
    }
  }

  private async announce (node: DhtNode, infoHash: InfoHash): Promise<void> {
    let ok = false
    try {
      await node.announce(infoHash, this.options.peerPort)
      ok = true
    } catch {
      // No node took it (none known yet, or none answered): tried again after RETRY_MS.
    }
    if (this.closed) return
    const now = this.now()
    // Re-added on every announce: peers stored for others (ourselves too) expire, and a flood of
    // strangers' announces may have pushed ours out of the table.
    const { ownHost, peerPort } = this.options
    if (ownHost !== undefined && this.schedule.has(infoHash)) node.addOwnPeer(infoHash, ownHost, peerPort)
    this.schedule.done(infoHash, now, ok)
    if (ok) this.lastAnnounceAt = now
    this.changed()
    this.pump()
  }

  private noticeNodes (): void {
    const nodes = this.node?.nodeCount ?? 0
    if (nodes > 0 && !this.bootstrapped) {
      this.bootstrapped = true
      this.emit('bootstrapped', nodes)
    } else if (nodes === 0 && this.bootstrapped) {
      this.bootstrapped = false
    }
    this.changed()
  }

  private rejoinIfAlone (): void {
    this.noticeNodes()
    if (this.bootstrapped || this.node === undefined) return
    for (const hostPort of this.options.bootstrap) this.node.ping(hostPort)
  }

  private async save (): Promise<void> {
    const node = this.node
    if (node === undefined) return
    try {
      await writeDhtState(this.stateFile, { nodeId: node.nodeId, nodes: node.contacts() })
    } catch (error) {
      this.warn('ET_DHT_STATE', `cannot save the DHT routing table: ${error instanceof Error ? error.message : String(error)}`)
    }
  }

  /** A send that failed (ENETUNREACH while the network is down…): the query fails and is retried later. */
  private socketWarnings = 0
  private onSocketWarning (error: Error): void {
    // Late answers ("Unexpected transaction id") and the like are the DHT's daily weather, not news.
    const code = (error as NodeJS.ErrnoException).code
    if (typeof code !== 'string') return
    this.socketWarnings++
    if (this.socketWarnings !== 1 && this.socketWarnings % 100 !== 0) return
    this.warn('ET_DHT_SOCKET', `DHT socket: ${error.message} (${this.socketWarnings} so far); retried later`)
  }

  private dropped = 0
  private onDropped (from: string, reason: 'malformed' | 'threw', error: unknown): void {
    this.dropped++
    // One line for the first, then one per thousand: a flood must not become a flood of log lines.
    if (this.dropped !== 1 && this.dropped % 1000 !== 0) return
    const what = reason === 'threw' ? `one the DHT code failed on (${error instanceof Error ? error.message : String(error)})` : 'malformed'
    this.warn('ET_DHT_DROPPED', `DHT datagrams dropped: ${this.dropped} so far, the last from ${from}, ${what}`)
  }

  private warn (code: DhtWarningCode, message: string): void {
    this.emit('warning', { code, message })
  }

  private changed (): void {
    if (this.changeTimer !== undefined || this.closed) return
    this.changeTimer = setTimeout(() => {
      this.changeTimer = undefined
      this.emit('change', this.snapshot())
    }, CHANGE_EVERY_MS)
  }

  private every (ms: number, run: () => void): void {
    const timer = setInterval(run, ms)
    timer.unref()
    this.timers.add(timer)
  }
}
