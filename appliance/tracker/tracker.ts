import { randomBytes } from 'node:crypto'
import type { RemoteInfo } from 'node:dgram'
import { EventEmitter } from 'node:events'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { isIPv4 } from 'node:net'
import type { Duplex } from 'node:stream'
import { truncatedV2Of, type Catalog, type PublishedTorrent } from '../catalog/catalog.js'
import type { Settings } from '../config/settings.js'
import type { InfoHash } from '../metainfo/metainfo.js'
import { LocalNetworks } from '../net/local-networks.js'
import { formatPeerAddress, normalizeAddress, type PeerAddress } from '../net/peer-address.js'
import { isEverseedItself, clampNumwant, MAX_NUMWANT, MAX_UDP_PEERS, type AnnounceEventName } from './announce.js'
import { COMPACT_BYTES, readCompactPeer, writeCompactPeer } from '../net/compact-peers.js'
import { ConnectionIds } from './connection-ids.js'
import { TrackerError } from './errors.js'
import {
  encodeCompactAnnounceResponse,
  encodeHttpAnnounceResponse,
  encodeTrackerFailure,
  parseHttpAnnounce,
  type HandedOutPeer,
  type HttpAnnounceRequest
} from './http-announce.js'
import { encodeHttpScrapeResponse, parseHttpScrape, type ScrapeCounts } from './http-scrape.js'
import { listLocalAddresses } from './local-address.js'
import { SwarmBudget } from './swarm-budget.js'
import { NO_SLOT, SwarmPeers } from './swarm-peers.js'
import type { AcceptedAnnounce, SwarmServer, SwarmServerOptions, TrackedSwarm, WebSocketClient } from './swarm-server.js'
import { UdpEndpoints, type UdpEndpoint } from './udp-endpoints.js'
import {
  ANNOUNCE_HEAD_BYTES,
  writeAnnounceHead,
  encodeConnectResponse,
  encodeErrorResponse,
  encodeScrapeResponse,
  parseUdpRequest,
  udpAnnounceEvent,
  udpAnnounceInfoHash,
  udpAnnounceLeft,
  udpAnnounceNumwant,
  udpAnnouncePort,
  udpConnectionId,
  udpRequestAction,
  udpTransactionId,
  UDP_PEER_ID_OFFSET
} from './udp-protocol.js'

/** `published-only` answers announces for the Catalog's torrents only; `open` tracks any infohash. */
export type TrackerMode = 'published-only' | 'open'

export const UNPUBLISHED_REASON = 'this tracker only tracks torrents published by this box'

/** A swarm's peers other than the everseed. */
export interface SwarmStats {
  readonly seeders: number
  readonly leechers: number
  /** `completed` announces seen since the tracker started. */
  readonly completed: number
}

export type TrackerTransport = 'http' | 'udp' | 'ws'

export interface AnnounceEvent {
  readonly infoHash: InfoHash
  /** A torrent this box publishes (in "open" mode, announces for any other torrent are reported too). */
  readonly published: boolean
  /** `started`, `completed`, `stopped`, `update` (a regular announce), or WebTorrent's `paused`. */
  readonly event: string
  readonly transport: TrackerTransport
  /** `ip:port`, `[ip]:port` for IPv6; undefined for a WebSocket peer whose connection closed. */
  readonly peer: string | undefined
  /** The peer's address as it announced it (HTTP and UDP peers only), so the everseed can connect to it. */
  readonly peerAddress?: PeerAddress
  /** Bytes the peer still needs; 0 for a seed. */
  readonly left: number
  readonly swarm: SwarmStats
}

export interface TrackerEvents {
  /** Every accepted announce, with the swarm's counts after it. */
  announce: [event: AnnounceEvent]
  /** Refused or malformed requests and socket trouble; the tracker keeps running. */
  warning: [error: TrackerError]
}

/**
 * The options the settings table gives (see `trackerOptionsFrom`). Required: their defaults are the
 * table's, written once there; tests build a tracker from `trackerOptionsFrom(defaultSettings())`.
 */
export interface SettingsOptions {
  readonly mode: TrackerMode
  /** BEP 15 UDP tracker port (0: a free one, see `udpPort`); `false` for no UDP tracker. */
  readonly udpPort: number | false
  /**
   * The one address to take UDP requests on. Undefined (or `::`): every local address; `0.0.0.0`:
   * every local IPv4 address.
   */
  readonly host?: string | undefined
  /** `tracker.max_swarms`: swarms of torrents not published here at most ("open" mode). */
  readonly maxSwarms: number
  /** `tracker.max_peers`: peers in all swarms at most, as long as a swarm not published here is left to drop. */
  readonly maxPeers: number
  /** `tracker.max_peers_per_swarm`: beyond it a swarm forgets the peer announced least recently. */
  readonly maxPeersPerSwarm: number
  /** `tracker.udp_receive_buffer_bytes`: each UDP socket's receive buffer. */
  readonly udpReceiveBufferBytes: number
  /** `tracker.max_ws_frame_bytes`: a longer WebSocket message closes its connection before it is read. */
  readonly maxFrameBytes: number
  /** `http.headers_seconds` in ms: a WebSocket must send its first message this soon. */
  readonly firstMessageMs: number
  /** `tracker.ws_idle_seconds` in ms: then a WebSocket that sends no message for this long is closed. */
  readonly wsIdleMs: number
}

/** The tracker's options from the settings table; the one place its keys are read (at start and on reload, see `Tracker.apply`). */
export function trackerOptionsFrom (settings: Settings): SettingsOptions & { readonly udpPort: number } {
  const host = settings['network.listen_host']
  return {
    mode: settings['tracker.mode'] as TrackerMode,
    udpPort: settings['tracker.port'],
    host: host === '' ? undefined : host,
    maxSwarms: settings['tracker.max_swarms'],
    maxPeers: settings['tracker.max_peers'],
    maxPeersPerSwarm: settings['tracker.max_peers_per_swarm'],
    udpReceiveBufferBytes: settings['tracker.udp_receive_buffer_bytes'],
    maxFrameBytes: settings['tracker.max_ws_frame_bytes'],
    firstMessageMs: settings['http.headers_seconds'] * 1000,
    wsIdleMs: settings['tracker.ws_idle_seconds'] * 1000
  }
}

export interface TrackerOptions extends SettingsOptions {
  readonly catalog: Catalog
  /** The seeder's peer port: the everseed is handed out at this port. */
  readonly everseedPort: number
  /** Local addresses to bind when no single host is set; default: every interface address. */
  readonly listAddresses?: () => readonly string[]
  /** How often the local addresses are listed again; default 30 s. */
  readonly addressRefreshMs?: number
  /**
   * Where the internet reaches the everseed (the router's external address and mapped peer port), when
   * it does: handed to clients that are not on one of this machine's networks, which came through the
   * router and cannot reach the local address their request arrived at.
   */
  readonly publicEverseed?: () => PeerAddress | undefined
  /** Which addresses are on this machine's own networks; default: its interfaces' subnets. */
  readonly localNetworks?: { contains: (address: string) => boolean }
  /** The clock, in ms (peers expire by it); default `Date.now`. */
  readonly now?: () => number
  /** Picks peers to hand out; default `Math.random`. */
  readonly random?: () => number
}

/** bittorrent-tracker's own default, 10 minutes. */
const ANNOUNCE_INTERVAL_S = 600
/** A peer that has not announced for two intervals is forgotten (bittorrent-tracker's 20 minutes). */
const PEER_TTL_S = 2 * ANNOUNCE_INTERVAL_S
/** How often every swarm is swept of expired peers; announces also sweep a few in their own swarm. */
const SWEEP_MS = 30_000
const EXPIRED_PER_ANNOUNCE = 4

/**
 * The appliance's tracker: HTTP (BEP 3, 23, 7, 48) and UDP (BEP 15) announces and scrapes over its
 * own packed peer store (SwarmPeers), and WebTorrent's WebSocket tracker over bittorrent-tracker's
 * swarms and signalling; a torrent's counts add both kinds of peers.
 *
 * The everseed is in every published swarm, handed out at the local address the asking client's
 * request arrived at (HTTP: its TCP socket's local address; UDP: the address of the socket, one per
 * local address, that received the datagram). WebSocket (WebRTC) peers are not given it: they cannot
 * reach a TCP peer.
 *
 * The tracker opens no TCP port itself. Its HTTP side is a set of handlers for the appliance's web
 * server (`/announce`, `/scrape`, and WebSocket upgrades); to offer HTTP on the tracker port as well,
 * the composition root mounts the same handlers on a second web server listening there, so that
 * `http://box:<trackerPort>/announce` and `udp://box:<trackerPort>` share one port number.
 */
export class Tracker extends EventEmitter<TrackerEvents> {
  private readonly catalog: Catalog
  private readonly everseedPort: number
  private readonly publicEverseed: () => PeerAddress | undefined
  private readonly localNetworks: { contains: (address: string) => boolean }
  private mode: TrackerMode
  private readonly host: string | undefined
  private readonly listAddresses: () => readonly string[]
  private readonly addressRefreshMs: number
  /**
   * bittorrent-tracker's server, for WebSocket peers only, loaded at the first WebSocket upgrade: its
   * import costs more time and memory than the whole HTTP/UDP tracker (see docs/architecture.md).
   */
  private server: SwarmServer | undefined
  private loadingServer: Promise<SwarmServer> | undefined
  private readonly serverOptions: SwarmServerOptions
  /** HTTP and UDP peers, packed, by infohash; WebSocket peers stay in `server`'s swarms. */
  private readonly swarms = new Map<string, SwarmPeers>()
  private readonly maxPeersPerSwarm: number
  private readonly hashSeed = randomBytes(4).readInt32LE()
  private readonly now: () => number
  private readonly random: () => number
  private readonly budget: SwarmBudget
  private readonly udp: UdpEndpoints | undefined
  private readonly connectionIds = new ConnectionIds()
  private readonly webSockets = new Set<WebSocketClient>()
  /** The swarm bounds in force, which `apply` changes; the budget reads them at each announce. */
  private bounds: { maxSwarms: number, maxPeers: number }
  private firstMessageMs: number
  private wsIdleMs: number
  private refreshTimer: NodeJS.Timeout | undefined
  private readonly sweepTimer: NodeJS.Timeout
  private closed = false
  // Scratch space of the announce path, which is synchronous: reused by every announce.
  /** The requester's compact address. */
  private readonly requesterKey = Buffer.alloc(COMPACT_BYTES[6])
  /** Slots picked to hand out. */
  private readonly picked = new Int32Array(MAX_NUMWANT)
  /** Compact peer lists being put together, per family. */
  private readonly compact = { 4: Buffer.alloc(MAX_NUMWANT * COMPACT_BYTES[4]), 6: Buffer.alloc(MAX_NUMWANT * COMPACT_BYTES[6]) }

  constructor (options: TrackerOptions) {
    super()
    this.catalog = options.catalog
    this.everseedPort = options.everseedPort
    this.publicEverseed = options.publicEverseed ?? (() => undefined)
    this.localNetworks = options.localNetworks ?? new LocalNetworks()
    this.mode = options.mode
    this.host = options.host
    this.listAddresses = options.listAddresses ?? listLocalAddresses
    this.addressRefreshMs = options.addressRefreshMs ?? 30_000
    this.firstMessageMs = options.firstMessageMs
    this.wsIdleMs = options.wsIdleMs
    this.maxPeersPerSwarm = options.maxPeersPerSwarm
    this.now = options.now ?? Date.now
    this.random = options.random ?? Math.random
    this.sweepTimer = setInterval(() => { this.sweep() }, SWEEP_MS).unref()
    this.serverOptions = {
      intervalMs: ANNOUNCE_INTERVAL_S * 1000,
      maxFrameBytes: options.maxFrameBytes,
      maxPeersPerSwarm: options.maxPeersPerSwarm,
      refusal: (infoHash) => this.refusal(infoHash),
      onAnnounce: (swarm, announce) => { this.onAnnounce(swarm, announce) },
      onWarning: (error) => { this.warn(asTrackerError(error)) },
      onError: (error) => { this.warn(new TrackerError('ET_LISTEN', `WebSocket tracker: ${error.message}`, { cause: error })) }
    }
    this.bounds = { maxSwarms: options.maxSwarms, maxPeers: options.maxPeers }
    const bounds = (): { maxSwarms: number, maxPeers: number } => this.bounds
    this.budget = new SwarmBudget({
      get maxSwarms () { return bounds().maxSwarms },
      get maxPeers () { return bounds().maxPeers },
      isPublished: (infoHash) => this.isPublished(infoHash)
    })
    this.udp = options.udpPort === false
      ? undefined
      : new UdpEndpoints({
        port: options.udpPort,
        receiveBufferBytes: options.udpReceiveBufferBytes,
        addresses: () => this.udpAddresses(),
        onMessage: (msg, from, endpoint) => { this.onUdpMessage(msg, from, endpoint) },
        onWarning: (error) => { this.warn(error) }
      })
  }

  /** The UDP port in use once started (the chosen one when 0 was asked); undefined without UDP. */
  get udpPort (): number | undefined {
    return this.udp?.port
  }

  async start (): Promise<void> {
    if (this.udp !== undefined) {
      await this.udp.refresh()
      if (this.udp.size === 0) {
        throw new TrackerError('ET_LISTEN', `could not listen for UDP tracker requests on port ${this.udp.port} at any of: ${this.udpAddresses().join(', ') || 'no local address'}`)
      }
      this.refreshTimer = setInterval(() => { void this.refreshAddresses() }, this.addressRefreshMs).unref()
    }
    this.catalog.on('removed', this.onRemoved)
  }

  /** Stops taking requests, drops WebSocket peers, releases the UDP sockets. */
  async close (): Promise<void> {
    this.closed = true
    clearInterval(this.refreshTimer)
    clearInterval(this.sweepTimer)
    this.catalog.off('removed', this.onRemoved)
    for (const socket of this.webSockets) socket.terminate()
    this.webSockets.clear()
    await this.udp?.close()
    await this.loadingServer?.catch(() => undefined)
    await this.server?.close()
  }

  /**
   * New settings while running (a config reload): the mode, the swarm bounds (from the next announce
   * on) and the WebSocket timeouts (from each socket's next message) change; connected peers and
   * published swarms stay. Back to `published-only`, the swarms of torrents this box does not publish
   * are dropped. The ports, the per-swarm bound and the frame size stay as started.
   */
  apply (settings: Settings): void {
    const options = trackerOptionsFrom(settings)
    this.bounds = { maxSwarms: options.maxSwarms, maxPeers: options.maxPeers }
    this.firstMessageMs = options.firstMessageMs
    this.wsIdleMs = options.wsIdleMs
    this.setMode(options.mode)
  }

  private setMode (mode: TrackerMode): void {
    if (mode === this.mode) return
    this.mode = mode
    if (mode === 'open') return
    for (const infoHash of this.heldInfoHashes()) {
      if (!this.isPublished(infoHash)) this.drop(infoHash)
    }
  }

  /** Binds UDP sockets for local addresses that appeared and closes those of addresses that went away. */
  async refreshAddresses (): Promise<void> {
    if (this.closed) return
    await this.udp?.refresh()
  }

  /** The swarm's counts; undefined for an infohash that is neither published nor tracked. */
  stats (infoHash: string): SwarmStats | undefined {
    const peers = this.swarms.get(infoHash)
    const webSocketPeers = this.server?.get(infoHash)
    if (peers === undefined && webSocketPeers === undefined && !this.isPublished(infoHash)) return undefined
    return {
      seeders: (peers?.seeders ?? 0) + (webSocketPeers?.complete ?? 0),
      leechers: (peers?.leechers ?? 0) + (webSocketPeers?.incomplete ?? 0),
      completed: (peers?.completed ?? 0) + (webSocketPeers?.completed ?? 0)
    }
  }

  /** Route handler for `GET /announce`. */
  readonly handleAnnounce = (req: IncomingMessage, res: ServerResponse): void => {
    const remoteAddress = req.socket.remoteAddress
    const localAddress = req.socket.localAddress
    if (remoteAddress === undefined || localAddress === undefined) return // the connection is already gone
    try {
      sendBencoded(res, this.answerHttpAnnounce(parseHttpAnnounce(req.url ?? ''), normalizeAddress(remoteAddress), localAddress))
    } catch (error) {
      this.sendHttpFailure(res, error)
    }
  }

  /** Route handler for `GET /scrape`. */
  readonly handleScrape = (req: IncomingMessage, res: ServerResponse): void => {
    try {
      const asked = parseHttpScrape(req.url ?? '')
      const infoHashes = asked.length > 0 ? asked : this.trackedInfoHashes()
      sendBencoded(res, encodeHttpScrapeResponse(infoHashes.map((infoHash) => this.scrapeCounts(infoHash))))
    } catch (error) {
      this.sendHttpFailure(res, error)
    }
  }

  /** Upgrade handler for WebTorrent's WebSocket tracker (e.g. at `/announce`). */
  readonly handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    if (this.closed) {
      socket.destroy()
      return
    }
    // The client sends no frame before our handshake answer, so nothing is lost while the server loads.
    this.webSocketServer().then((server) => { this.acceptWebSocket(server, req, socket, head) }, (error: unknown) => {
      socket.destroy()
      this.warn(new TrackerError('ET_LISTEN', `WebSocket tracker: ${(error as Error).message}`, { cause: error }))
    })
  }

  private async webSocketServer (): Promise<SwarmServer> {
    this.loadingServer ??= import('./swarm-server.js').then(({ SwarmServer }) => {
      this.server = new SwarmServer(this.serverOptions)
      return this.server
    })
    return await this.loadingServer
  }

  private acceptWebSocket (server: SwarmServer, req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.closed) {
      socket.destroy()
      return
    }
    server.acceptWebSocket(req, socket, head, (client) => {
      if (this.closed) {
        client.terminate()
        return false
      }
      this.webSockets.add(client)
      client.once('close', () => { this.webSockets.delete(client) })
      this.closeWhenSilent(client)
      // ws answers a protocol error (a frame over maxPayload) with a close frame, then goes on reading
      // and dropping whatever the peer still sends for up to 30 s: end the connection at once instead.
      client.once('error', () => { client.terminate() })
      return true
    })
  }

  /** Peers held in all swarms, and swarms held of torrents not published here. */
  get size (): { readonly peers: number, readonly foreignSwarms: number } {
    return this.budget.size
  }

  private answerHttpAnnounce (request: HttpAnnounceRequest, requesterIp: string, localAddress: string): Buffer {
    const family = writeCompactPeer(requesterIp, request.port, this.requesterKey, 0)
    if (family === 0) throw new TrackerError('ET_BAD_REQUEST', `bad announce: the source address ${requesterIp} is not an IP address`)
    const everseed = this.everseedOf(request.infoHash, requesterIp, localAddress)
    const infoHash = this.swarmKey(request.infoHash)
    const slot = this.record(infoHash, family, request.peerId, 0, request.event, request.left, 'http', requesterIp, request.port, everseed)
    const swarm = this.swarms.get(infoHash)
    const counts = this.countsFor(infoHash, everseed)
    const numwant = slot === NO_SLOT ? 0 : request.numwant
    if (!request.compact) return encodeHttpAnnounceResponse(request, { ...counts, peers: this.handedOut(swarm, family, slot, everseed, numwant) })
    // The everseed first, so it survives any numwant above 0; then the other peers, each family in
    // proportion to its share of the swarm.
    let wanted = numwant
    let written4 = 0
    let written6 = 0
    if (everseed !== undefined && wanted > 0) {
      // Written to the IPv4 list first; an IPv6 everseed is written again where it belongs, and the
      // IPv4 list starts over it.
      const everseedFamily = writeCompactPeer(everseed.ip, everseed.port, this.compact[4], 0)
      if (everseedFamily === 4) written4 = COMPACT_BYTES[4]
      if (everseedFamily === 6) {
        writeCompactPeer(everseed.ip, everseed.port, this.compact[6], 0)
        written6 = COMPACT_BYTES[6]
      }
      if (everseedFamily !== 0) wanted -= 1
    }
    if (swarm !== undefined && wanted > 0) {
      const others = swarm.count - 1
      const fromV6 = others <= 0 ? 0 : Math.round(wanted * (swarm.v6.count - (family === 6 ? 1 : 0)) / others)
      written4 += this.writePicked(swarm, 4, family === 4 ? slot : NO_SLOT, wanted - fromV6, this.compact[4], written4)
      written6 += this.writePicked(swarm, 6, family === 6 ? slot : NO_SLOT, fromV6, this.compact[6], written6)
    }
    return encodeCompactAnnounceResponse(counts, this.compact[4].subarray(0, written4), this.compact[6].subarray(0, written6))
  }

  private answerUdpAnnounce (msg: Buffer, requesterIp: string, endpoint: UdpEndpoint): Buffer {
    const asked = udpAnnounceInfoHash(msg)
    const port = udpAnnouncePort(msg)
    const family = writeCompactPeer(requesterIp, port, this.requesterKey, 0)
    if (family === 0) throw new TrackerError('ET_BAD_REQUEST', `bad UDP tracker request: the source address ${requesterIp} is not an IP address`)
    const everseed = this.everseedOf(asked, requesterIp, endpoint.address)
    const infoHash = this.swarmKey(asked)
    const slot = this.record(infoHash, family, msg, UDP_PEER_ID_OFFSET, udpAnnounceEvent(msg), udpAnnounceLeft(msg), 'udp', requesterIp, port, everseed)
    const counts = this.countsFor(infoHash, everseed)
    // BEP 15: the response holds peers of the family the request came over.
    let wanted = slot === NO_SLOT ? 0 : Math.min(clampNumwant(udpAnnounceNumwant(msg)), MAX_UDP_PEERS[endpoint.family])
    const recordBytes = COMPACT_BYTES[endpoint.family]
    const out = Buffer.allocUnsafe(ANNOUNCE_HEAD_BYTES + wanted * recordBytes)
    writeAnnounceHead(out, udpTransactionId(msg), counts.interval, counts.incomplete, counts.complete)
    let length = ANNOUNCE_HEAD_BYTES
    // Written aside first: an everseed of the other family (a public one) is longer than a slot of `out`.
    if (everseed !== undefined && wanted > 0 && writeCompactPeer(everseed.ip, everseed.port, this.compact[6], 0) === endpoint.family) {
      length += this.compact[6].copy(out, length, 0, recordBytes)
      wanted -= 1
    }
    const swarm = this.swarms.get(infoHash)
    if (swarm !== undefined) length += this.writePicked(swarm, endpoint.family, family === endpoint.family ? slot : NO_SLOT, wanted, out, length)
    return out.subarray(0, length)
  }

  /**
   * Records an HTTP or UDP announce in its swarm (after the refusal check) and returns the
   * requester's slot in its family's slots, NO_SLOT when it left or is the everseed itself (which
   * is in every published swarm already and must not be recorded twice).
   */
  private record (infoHash: string, family: 4 | 6, peerId: Buffer, peerIdOffset: number, event: AnnounceEventName, left: number, transport: 'http' | 'udp', ip: string, port: number, everseed: PeerAddress | undefined): number {
    const refusal = this.refusal(infoHash)
    if (refusal !== undefined) throw refusal
    if (everseed !== undefined && isEverseedItself({ ip, port }, everseed)) return NO_SLOT
    const swarm = this.swarmOf(infoHash)
    const nowS = this.nowS()
    swarm.expire(nowS - PEER_TTL_S, EXPIRED_PER_ANNOUNCE)
    const slot = swarm.announce(family, this.requesterKey, 0, peerId, peerIdOffset, event, left === 0, nowS)
    this.counted(infoHash)
    if (this.listenerCount('announce') > 0) {
      this.emitAnnounce(infoHash, { transport, event, peer: { ip, port }, left })
    }
    return slot
  }

  /** Writes up to `max` picked peers of `family` (never `skip`) at `out[offset …]`; returns the bytes written. */
  private writePicked (swarm: SwarmPeers, family: 4 | 6, skip: number, max: number, out: Buffer, offset: number): number {
    const slots = swarm.slotsOf(family)
    const picked = slots.pick(skip, this.random, this.picked, Math.min(max, MAX_NUMWANT))
    let at = offset
    for (let index = 0; index < picked; index++) at += slots.writeRecord(this.picked[index]!, out, at)
    return at - offset
  }

  /** A non-compact answer's peers (BEP 3 dictionaries): rare, so plain objects. */
  private handedOut (swarm: SwarmPeers | undefined, family: 4 | 6, slot: number, everseed: PeerAddress | undefined, numwant: number): HandedOutPeer[] {
    const peers: HandedOutPeer[] = everseed === undefined || numwant === 0 ? [] : [everseed]
    if (swarm === undefined) return peers
    for (const each of [4, 6] as const) {
      const slots = swarm.slotsOf(each)
      const picked = slots.pick(each === family ? slot : NO_SLOT, this.random, this.picked, numwant - peers.length)
      for (let index = 0; index < picked; index++) {
        const at = this.picked[index]!
        slots.writeRecord(at, this.compact[6], 0)
        peers.push({ ...readCompactPeer(this.compact[6], 0, each), peerId: slots.peerIdOf(at).toString('hex') })
      }
    }
    return peers
  }

  /** The counts an announce of `infoHash` is answered with: both kinds of peers, and the everseed as a seeder. */
  private countsFor (infoHash: string, everseed: PeerAddress | undefined): { interval: number, complete: number, incomplete: number } {
    const stats = this.stats(infoHash) ?? { seeders: 0, leechers: 0 }
    return { interval: ANNOUNCE_INTERVAL_S, complete: stats.seeders + (everseed === undefined ? 0 : 1), incomplete: stats.leechers }
  }

  /**
   * For a published torrent, the everseed as this requester is handed it (also under a hybrid's
   * truncated v2 infohash: the everseed answers BEP 52 handshakes with it); undefined otherwise.
   */
  private everseedOf (infoHash: string, requesterIp: string, localAddress: string): PeerAddress | undefined {
    return this.catalog.canonicalHash(infoHash) === undefined ? undefined : this.everseedFor(requesterIp, localAddress)
  }

  /** The everseed at the address this client can reach: the one its request came to, or the public one from outside. */
  private everseedFor (requesterIp: string, localAddress: string): PeerAddress {
    const outside = this.publicEverseed()
    if (outside !== undefined && !this.localNetworks.contains(requesterIp)) return outside
    return { ip: normalizeAddress(localAddress), port: this.everseedPort }
  }

  private onUdpMessage (msg: Buffer, from: RemoteInfo, endpoint: UdpEndpoint): void {
    if (this.closed) return
    let action
    try {
      action = udpRequestAction(msg)
    } catch (error) {
      // BEP 15 has no reply for a packet that is not a request; answering garbage would only help spoofers.
      this.warn(asTrackerError(error, `from ${from.address}:${from.port}`))
      return
    }
    const client = normalizeAddress(from.address)
    if (action === 'connect') {
      this.sendUdp(endpoint, from, encodeConnectResponse(udpTransactionId(msg), this.connectionIds.issue(client, from.port)))
      return
    }
    if (!this.connectionIds.verify(udpConnectionId(msg), client, from.port)) {
      this.warn(new TrackerError('ET_BAD_REQUEST', `UDP ${action} from ${from.address}:${from.port} with a connection id it was not given (BEP 15)`))
      return
    }
    try {
      this.sendUdp(endpoint, from, action === 'announce' ? this.answerUdpAnnounce(msg, client, endpoint) : this.answerUdpScrape(msg))
    } catch (error) {
      const failure = asTrackerError(error)
      this.warn(failure)
      this.sendUdp(endpoint, from, encodeErrorResponse(udpTransactionId(msg), failure.message))
    }
  }

  private answerUdpScrape (msg: Buffer): Buffer {
    const request = parseUdpRequest(msg)
    if (request.action !== 'scrape') throw new TrackerError('ET_BAD_REQUEST', 'bad UDP tracker request: not a scrape')
    return encodeScrapeResponse(request.transactionId, request.infoHashes.map((infoHash) => {
      const count = this.scrapeCounts(infoHash)
      return { seeders: count.complete, completed: count.downloaded, leechers: count.incomplete }
    }))
  }

  private sendUdp (endpoint: UdpEndpoint, to: RemoteInfo, packet: Buffer): void {
    if (this.closed) return
    endpoint.send(packet, to.port, to.address)
  }

  private sendHttpFailure (res: ServerResponse, error: unknown): void {
    const failure = asTrackerError(error)
    this.warn(failure)
    sendBencoded(res, encodeTrackerFailure(failure.message))
  }

  /**
   * The swarm an announce or scrape of `infoHash` goes to: a hybrid torrent has one, under its v1
   * infohash, which its truncated v2 infohash (BEP 52) names too. So a client that announces both
   * (libtorrent does) is one peer, and the counts are the torrent's.
   */
  private swarmKey (infoHash: string): string {
    return this.catalog.canonicalHash(infoHash) ?? infoHash
  }

  /** True for the infohash of a published torrent, or the truncated v2 infohash of a published hybrid. */
  private isPublished (infoHash: string): boolean {
    return this.catalog.canonicalHash(infoHash) !== undefined
  }

  private refusal (infoHash: string): TrackerError | undefined {
    if (this.mode === 'open' || this.isPublished(infoHash)) return undefined
    return new TrackerError('ET_UNPUBLISHED', UNPUBLISHED_REASON)
  }

  /** BEP 48 counts, the everseed counted as a seeder of every published torrent. */
  private scrapeCounts (infoHash: string): ScrapeCounts {
    const stats = this.stats(this.swarmKey(infoHash)) ?? { seeders: 0, leechers: 0, completed: 0 }
    const everseeds = this.isPublished(infoHash) ? 1 : 0
    return { infoHash, complete: stats.seeders + everseeds, downloaded: stats.completed, incomplete: stats.leechers }
  }

  private trackedInfoHashes (): string[] {
    const published: string[] = [...this.catalog.all()].map((torrent) => torrent.metainfo.infoHash)
    return [...new Set([...published, ...this.heldInfoHashes()])]
  }

  /** Infohashes with a swarm held, of either kind of peer. */
  private heldInfoHashes (): string[] {
    return [...new Set([...this.swarms.keys(), ...(this.server?.infoHashes() ?? [])])]
  }

  private swarmOf (infoHash: string): SwarmPeers {
    let swarm = this.swarms.get(infoHash)
    if (swarm === undefined) {
      swarm = new SwarmPeers({ maxPeers: this.maxPeersPerSwarm, hashSeed: this.hashSeed })
      this.swarms.set(infoHash, swarm)
    }
    return swarm
  }

  /** Peers of both kinds held for `infoHash`. */
  private peerCount (infoHash: string): number {
    return (this.swarms.get(infoHash)?.count ?? 0) + (this.server?.get(infoHash)?.peerCount ?? 0)
  }

  /** Counts an accepted announce against the bounds, dropping the swarms they leave no room for. */
  private counted (infoHash: string): void {
    for (const dropped of this.budget.announced(infoHash, this.peerCount(infoHash))) this.drop(dropped)
  }

  private nowS (): number {
    return Math.floor(this.now() / 1000)
  }

  /**
   * Forgets peers that stopped announcing, in every swarm, and swarms left with no peer of either
   * kind (a published torrent's swarm counts its everseed without one).
   */
  private sweep (): void {
    const beforeS = this.nowS() - PEER_TTL_S
    for (const [infoHash, swarm] of this.swarms) {
      if (swarm.expire(beforeS) === 0 && swarm.count > 0) continue
      if (swarm.count === 0 && this.server?.get(infoHash) === undefined) this.drop(infoHash)
      else this.budget.recount(infoHash, this.peerCount(infoHash))
    }
  }

  private udpAddresses (): readonly string[] {
    if (this.host === undefined || this.host === '::') return this.listAddresses()
    if (this.host === '0.0.0.0') return this.listAddresses().filter((address) => isIPv4(address))
    return [this.host]
  }

  /** A WebSocket announce bittorrent-tracker's swarm accepted. */
  private onAnnounce (swarm: TrackedSwarm, announce: AcceptedAnnounce): void {
    // A swarm dropped meanwhile (a WebSocket's goodbye after eviction) is no longer counted.
    if (this.server?.holds(swarm) === true) this.counted(swarm.infoHash)
    this.emitAnnounce(swarm.infoHash, announce)
  }

  private emitAnnounce (infoHash: string, announce: AcceptedAnnounce): void {
    const { peer } = announce
    this.emit('announce', {
      infoHash: infoHash as InfoHash, // lower-case hex, as every parser here and in bittorrent-tracker writes it
      published: this.isPublished(infoHash),
      event: announce.event,
      transport: announce.transport,
      peer: peer === undefined ? undefined : formatPeerAddress(peer.ip, peer.port),
      ...(announce.transport !== 'ws' && peer !== undefined && { peerAddress: peer }),
      left: announce.left,
      swarm: this.stats(infoHash) ?? { seeders: 0, leechers: 0, completed: 0 }
    })
  }

  /**
   * A WebSocket that sends no first message within `firstMessageMs`, then none for `wsIdleMs`, is
   * closed: WebTorrent clients announce at once and then every couple of minutes, and an idle socket
   * holds a descriptor and a connection slot.
   */
  private closeWhenSilent (client: WebSocketClient): void {
    const closeAfter = (ms: number): NodeJS.Timeout => setTimeout(() => { client.terminate() }, ms).unref()
    let timer = closeAfter(this.firstMessageMs)
    client.on('message', () => {
      clearTimeout(timer)
      timer = closeAfter(this.wsIdleMs)
    })
    client.once('close', () => { clearTimeout(timer) })
  }

  private warn (error: TrackerError): void {
    this.emit('warning', error)
  }

  /** In `published-only` mode a torrent that is no longer published loses its swarm. */
  private readonly onRemoved = (torrent: PublishedTorrent): void => {
    if (this.mode !== 'published-only') return
    this.drop(torrent.metainfo.infoHash)
    // WebSocket peers' swarms (bittorrent-tracker's) are kept by the infohash announced.
    const truncated = truncatedV2Of(torrent.metainfo)
    if (truncated !== undefined) this.drop(truncated)
  }

  /** Forgets the swarm of `infoHash` and its peers. */
  private drop (infoHash: string): void {
    this.swarms.delete(infoHash)
    this.server?.drop(infoHash)
    this.budget.forget(infoHash)
  }
}

function sendBencoded (res: ServerResponse, body: Buffer): void {
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': body.length })
  res.end(body)
}

function asTrackerError (error: unknown, where?: string): TrackerError {
  if (error instanceof TrackerError) {
    return where === undefined ? error : new TrackerError(error.code, `${error.message} (${where})`, { cause: error })
  }
  const message = error instanceof Error ? error.message : String(error)
  return new TrackerError('ET_BAD_REQUEST', where === undefined ? message : `${message} (${where})`, { cause: error })
}
