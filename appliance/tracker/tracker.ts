import type { RemoteInfo } from 'node:dgram'
import { EventEmitter } from 'node:events'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { isIPv4 } from 'node:net'
import type { Duplex } from 'node:stream'
import type { Catalog, PublishedTorrent } from '../catalog/catalog.js'
import type { Settings } from '../config/settings.js'
import type { InfoHash } from '../metainfo/metainfo.js'
import { LocalNetworks } from '../net/local-networks.js'
import { formatPeerAddress, normalizeAddress, type PeerAddress } from '../net/peer-address.js'
import { isEverseedItself, peersToHandOut, clampNumwant, type AnnounceRequest } from './announce.js'
import { compactPeers } from '../net/compact-peers.js'
import { ConnectionIds } from './connection-ids.js'
import { TrackerError } from './errors.js'
import { encodeHttpAnnounceResponse, encodeTrackerFailure, parseHttpAnnounce, type HandedOutPeer } from './http-announce.js'
import { encodeHttpScrapeResponse, parseHttpScrape, type ScrapeCounts } from './http-scrape.js'
import { listLocalAddresses } from './local-address.js'
import { SwarmBudget } from './swarm-budget.js'
import { SwarmServer, type AcceptedAnnounce, type TrackedSwarm, type WebSocketClient } from './swarm-server.js'
import { UdpEndpoints, type UdpEndpoint } from './udp-endpoints.js'
import {
  encodeAnnounceResponse,
  encodeConnectResponse,
  encodeErrorResponse,
  encodeScrapeResponse,
  parseUdpRequest,
  type UdpAnnounceRequest,
  type UdpRequest
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
}

/** bittorrent-tracker's own default, 10 minutes. */
const ANNOUNCE_INTERVAL_S = 600

/**
 * The appliance's tracker: HTTP (BEP 3, 23, 7, 48) and UDP (BEP 15) announces and scrapes, and
 * WebTorrent's WebSocket tracker, over bittorrent-tracker's swarms and WebSocket signalling.
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
  private readonly server: SwarmServer
  private readonly budget: SwarmBudget
  private readonly udp: UdpEndpoints | undefined
  private readonly connectionIds = new ConnectionIds()
  private readonly webSockets = new Set<WebSocketClient>()
  /** The swarm bounds in force, which `apply` changes; the budget reads them at each announce. */
  private bounds: { maxSwarms: number, maxPeers: number }
  private firstMessageMs: number
  private wsIdleMs: number
  private refreshTimer: NodeJS.Timeout | undefined
  private closed = false

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
    this.server = new SwarmServer({
      intervalMs: ANNOUNCE_INTERVAL_S * 1000,
      maxFrameBytes: options.maxFrameBytes,
      maxPeersPerSwarm: options.maxPeersPerSwarm,
      refusal: (infoHash) => this.refusal(infoHash),
      onAnnounce: (swarm, announce) => { this.onAnnounce(swarm, announce) },
      onWarning: (error) => { this.warn(asTrackerError(error)) },
      onError: (error) => { this.warn(new TrackerError('ET_LISTEN', `WebSocket tracker: ${error.message}`, { cause: error })) }
    })
    this.bounds = { maxSwarms: options.maxSwarms, maxPeers: options.maxPeers }
    const bounds = (): { maxSwarms: number, maxPeers: number } => this.bounds
    this.budget = new SwarmBudget({
      get maxSwarms () { return bounds().maxSwarms },
      get maxPeers () { return bounds().maxPeers },
      isPublished: (infoHash) => this.catalog.has(infoHash)
    })
    this.udp = options.udpPort === false
      ? undefined
      : new UdpEndpoints({
        port: options.udpPort,
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
    this.catalog.off('removed', this.onRemoved)
    for (const socket of this.webSockets) socket.terminate()
    this.webSockets.clear()
    await this.udp?.close()
    await this.server.close()
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
    for (const infoHash of this.server.infoHashes()) {
      if (!this.catalog.has(infoHash)) this.drop(infoHash)
    }
  }

  /** Binds UDP sockets for local addresses that appeared and closes those of addresses that went away. */
  async refreshAddresses (): Promise<void> {
    if (this.closed) return
    await this.udp?.refresh()
  }

  /** The swarm's counts; undefined for an infohash that is neither published nor tracked. */
  stats (infoHash: string): SwarmStats | undefined {
    const swarm = this.server.get(infoHash)
    if (swarm !== undefined) return statsOf(swarm)
    return this.catalog.has(infoHash) ? { seeders: 0, leechers: 0, completed: 0 } : undefined
  }

  /** Route handler for `GET /announce`. */
  readonly handleAnnounce = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const remoteAddress = req.socket.remoteAddress
    const localAddress = req.socket.localAddress
    if (remoteAddress === undefined || localAddress === undefined) return // the connection is already gone
    try {
      const request = parseHttpAnnounce(req.url ?? '')
      const requester = { ip: normalizeAddress(remoteAddress), port: request.port }
      const answer = await this.announce(request, 'http', requester, localAddress)
      sendBencoded(res, encodeHttpAnnounceResponse(request, answer))
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
    this.server.acceptWebSocket(req, socket, head, (client) => {
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

  /** The answer to an HTTP or UDP announce: the swarm's counts and peers, with the everseed. */
  private async announce (request: AnnounceRequest, transport: 'http' | 'udp', requester: PeerAddress, localAddress: string): Promise<{
    interval: number
    complete: number
    incomplete: number
    peers: HandedOutPeer[]
  }> {
    const refusal = this.refusal(request.infoHash)
    if (refusal !== undefined) throw refusal
    const everseed = this.catalog.has(request.infoHash) ? this.everseedFor(requester, localAddress) : undefined
    const everseeds = everseed === undefined ? 0 : 1
    const swarm = this.server.swarm(request.infoHash)
    if (everseed !== undefined && isEverseedItself(requester, everseed)) {
      return { interval: ANNOUNCE_INTERVAL_S, complete: swarm.complete + everseeds, incomplete: swarm.incomplete, peers: [] }
    }
    const result = await swarm.record({ transport, event: request.event, peerId: request.peerId, peer: requester, left: request.left, numwant: request.numwant })
    return {
      interval: ANNOUNCE_INTERVAL_S,
      complete: result.complete + everseeds,
      incomplete: result.incomplete,
      peers: peersToHandOut<HandedOutPeer>(result.peers, { requester, everseed, numwant: request.numwant })
    }
  }

  /** The everseed at the address this client can reach: the one its request came to, or the public one from outside. */
  private everseedFor (requester: PeerAddress, localAddress: string): PeerAddress {
    const outside = this.publicEverseed()
    if (outside !== undefined && !this.localNetworks.contains(requester.ip)) return outside
    return { ip: normalizeAddress(localAddress), port: this.everseedPort }
  }

  private onUdpMessage (msg: Buffer, from: RemoteInfo, endpoint: UdpEndpoint): void {
    if (this.closed) return
    let request: UdpRequest
    try {
      request = parseUdpRequest(msg)
    } catch (error) {
      // BEP 15 has no reply for a packet that is not a request; answering garbage would only help spoofers.
      this.warn(asTrackerError(error, `from ${from.address}:${from.port}`))
      return
    }
    const client = normalizeAddress(from.address)
    if (request.action === 'connect') {
      this.sendUdp(endpoint, from, encodeConnectResponse(request.transactionId, this.connectionIds.issue(client, from.port)))
      return
    }
    if (!this.connectionIds.verify(request.connectionId, client, from.port)) {
      this.warn(new TrackerError('ET_BAD_REQUEST', `UDP ${request.action} from ${from.address}:${from.port} with a connection id it was not given (BEP 15)`))
      return
    }
    if (request.action === 'scrape') {
      const counts = request.infoHashes.map((infoHash) => this.scrapeCounts(infoHash))
      this.sendUdp(endpoint, from, encodeScrapeResponse(request.transactionId, counts.map((count) => ({
        seeders: count.complete,
        completed: count.downloaded,
        leechers: count.incomplete
      }))))
      return
    }
    void this.answerUdpAnnounce(request, from, endpoint)
  }

  private async answerUdpAnnounce (request: UdpAnnounceRequest, from: RemoteInfo, endpoint: UdpEndpoint): Promise<void> {
    const requester = { ip: normalizeAddress(from.address), port: request.port }
    try {
      const announce = { ...request, numwant: clampNumwant(request.numwant) }
      const answer = await this.announce(announce, 'udp', requester, endpoint.address)
      this.sendUdp(endpoint, from, encodeAnnounceResponse({
        transactionId: request.transactionId,
        interval: answer.interval,
        leechers: answer.incomplete,
        seeders: answer.complete,
        // BEP 15: the response holds peers of the family the request came over.
        peers: compactPeers(answer.peers, endpoint.family)
      }))
    } catch (error) {
      const failure = asTrackerError(error)
      this.warn(failure)
      this.sendUdp(endpoint, from, encodeErrorResponse(request.transactionId, failure.message))
    }
  }

  private sendUdp (endpoint: UdpEndpoint, to: RemoteInfo, packet: Buffer): void {
    if (this.closed) return
    endpoint.socket.send(packet, to.port, to.address, (error) => {
      if (error !== null) this.warn(new TrackerError('ET_LISTEN', `cannot send a UDP tracker response to ${to.address}:${to.port}: ${error.message}`, { cause: error }))
    })
  }

  private sendHttpFailure (res: ServerResponse, error: unknown): void {
    const failure = asTrackerError(error)
    this.warn(failure)
    sendBencoded(res, encodeTrackerFailure(failure.message))
  }

  private refusal (infoHash: string): TrackerError | undefined {
    if (this.mode === 'open' || this.catalog.has(infoHash)) return undefined
    return new TrackerError('ET_UNPUBLISHED', UNPUBLISHED_REASON)
  }

  /** BEP 48 counts, the everseed counted as a seeder of every published torrent. */
  private scrapeCounts (infoHash: string): ScrapeCounts {
    const stats = this.stats(infoHash) ?? { seeders: 0, leechers: 0, completed: 0 }
    const everseeds = this.catalog.has(infoHash) ? 1 : 0
    return { infoHash, complete: stats.seeders + everseeds, downloaded: stats.completed, incomplete: stats.leechers }
  }

  private trackedInfoHashes (): string[] {
    const published: string[] = [...this.catalog.all()].map((torrent) => torrent.metainfo.infoHash)
    return [...new Set([...published, ...this.server.infoHashes()])]
  }

  private udpAddresses (): readonly string[] {
    if (this.host === undefined || this.host === '::') return this.listAddresses()
    if (this.host === '0.0.0.0') return this.listAddresses().filter((address) => isIPv4(address))
    return [this.host]
  }

  private onAnnounce (swarm: TrackedSwarm, announce: AcceptedAnnounce): void {
    // A swarm dropped meanwhile (a WebSocket's goodbye after eviction) is no longer counted.
    if (this.server.holds(swarm)) {
      for (const infoHash of this.budget.announced(swarm.infoHash, swarm.peerCount)) this.server.drop(infoHash)
    }
    const { peer } = announce
    this.emit('announce', {
      infoHash: swarm.infoHash as InfoHash, // lower-case hex, as every parser here and in bittorrent-tracker writes it
      published: this.catalog.has(swarm.infoHash),
      event: announce.event,
      transport: announce.transport,
      peer: peer === undefined ? undefined : formatPeerAddress(peer.ip, peer.port),
      ...(announce.transport !== 'ws' && peer !== undefined && { peerAddress: peer }),
      left: announce.left,
      swarm: statsOf(swarm)
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
    if (this.mode === 'published-only') this.drop(torrent.metainfo.infoHash)
  }

  /** Forgets the swarm of `infoHash` and its peers. */
  private drop (infoHash: string): void {
    this.server.drop(infoHash)
    this.budget.forget(infoHash)
  }
}

function statsOf (swarm: TrackedSwarm): SwarmStats {
  return { seeders: swarm.complete, leechers: swarm.incomplete, completed: swarm.completed }
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
