import Server, { type AnnounceParams, type Swarm, type SwarmAnnounceResult, type WebSocketClient } from 'bittorrent-tracker/server'
import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import { formatPeerAddress, type PeerAddress } from '../net/peer-address.js'
import type { AnnounceEventName } from './announce.js'

// The one door to bittorrent-tracker's server. Besides its documented options and `server.torrents`,
// it relies on: `createSwarm` being how the server makes every swarm (undocumented), deleting from
// `server.torrents` forgetting a swarm, the swarm's `peers` LRU (`length`, bounded by the undocumented
// `peersCacheLength`), the `ws` option reaching ws's WebSocketServer (`noServer`, `maxPayload`), and
// `ws.emit('connection')` handing an upgraded socket to the server. test/contracts/bittorrent-tracker-server.test.ts
// pins each of them.

export type { WebSocketClient }

/** A peer as a swarm hands it out; `peerId` is hex. */
export interface SwarmPeer extends PeerAddress {
  readonly peerId: string
}

/** An HTTP or UDP announce, as our own parsers read it; hashes and ids are hex. */
export interface SwarmAnnounce {
  readonly transport: 'http' | 'udp'
  readonly event: AnnounceEventName
  readonly peerId: string
  /** Where the peer is recorded: the request's source address and the port it announced. */
  readonly peer: PeerAddress
  readonly left: number
  readonly numwant: number
}

export interface SwarmAnswer {
  readonly complete: number
  readonly incomplete: number
  /** Peers of the same kind (HTTP and UDP ones, never WebSocket ones), the asking peer among them. */
  readonly peers: readonly SwarmPeer[]
}

/** An announce a swarm accepted, whatever the transport. */
export interface AcceptedAnnounce {
  readonly transport: 'http' | 'udp' | 'ws'
  /** `started`, `completed`, `stopped`, `update`, or WebTorrent's `paused`. */
  readonly event: string
  /** Undefined for a WebSocket peer whose connection closed. */
  readonly peer: PeerAddress | undefined
  /** Bytes the peer still needs; `Infinity` when it did not say. */
  readonly left: number
}

/** One torrent's swarm: bittorrent-tracker's peer store (an LRU with expiry) and its counts. */
export interface TrackedSwarm {
  /** Lower-case hex. */
  readonly infoHash: string
  /** Seeders held. */
  readonly complete: number
  /** Leechers held. */
  readonly incomplete: number
  /** `completed` announces seen, BEP 48's `downloaded`. */
  readonly completed: number
  /** Peers held, stale ones not yet expired included. */
  readonly peerCount: number
  /** Records an HTTP or UDP announce and answers it. */
  record (announce: SwarmAnnounce): Promise<SwarmAnswer>
}

export interface SwarmServerOptions {
  /** The announce interval told to clients (WebSocket clients are told a fifth of it). */
  readonly intervalMs: number
  /** Peers kept per swarm; beyond it the swarm forgets the one announced least recently. */
  readonly maxPeersPerSwarm: number
  /** A longer WebSocket message closes its connection (1009) before it is read. */
  readonly maxFrameBytes: number
  /** Why a WebSocket announce for `infoHash` is refused (its message is the failure reason), or undefined. */
  readonly refusal: (infoHash: string) => Error | undefined
  /** After every announce a swarm accepted, whatever the transport. */
  readonly onAnnounce: (swarm: TrackedSwarm, announce: AcceptedAnnounce) => void
  /** A client sent something bad; the server keeps going. */
  readonly onWarning: (error: Error) => void
  /** The WebSocket server failed. */
  readonly onError: (error: Error) => void
}

class HookedSwarm extends Server.Swarm implements TrackedSwarm {
  completed = 0
  private readonly server: HookedServer

  constructor (infoHash: string, server: HookedServer) {
    super(infoHash, server)
    this.server = server
  }

  get peerCount (): number {
    return this.peers.length
  }

  async record (announce: SwarmAnnounce): Promise<SwarmAnswer> {
    return await new Promise((resolve, reject) => {
      this.announce({
        type: announce.transport,
        event: announce.event,
        info_hash: this.infoHash,
        peer_id: announce.peerId,
        ip: announce.peer.ip,
        port: announce.peer.port,
        // The swarm's key for the peer: one entry per address and port.
        addr: formatPeerAddress(announce.peer.ip, announce.peer.port),
        left: announce.left,
        numwant: announce.numwant
      }, (err, answer) => { if (err !== null || answer === undefined) reject(err); else resolve(answer) })
    })
  }

  // Every announce goes through here, WebSocket ones (and their goodbyes, which pass no callback) included.
  override announce (params: AnnounceParams, cb?: (err: Error | null, result?: SwarmAnnounceResult) => void): void {
    super.announce(params, (err, result) => {
      if (err === null) {
        if (params.event === 'completed') this.completed += 1
        this.server.onAnnounce(this, accepted(params))
      }
      cb?.(err, result)
    })
  }
}

class HookedServer extends Server {
  readonly onAnnounce: SwarmServerOptions['onAnnounce']

  constructor (options: SwarmServerOptions) {
    super({
      interval: options.intervalMs,
      http: false,
      udp: false,
      // Handed to ws's WebSocketServer: no server of its own, and a frame whose header announces more
      // than maxPayload is refused (1009) before its payload is buffered.
      ws: { noServer: true, maxPayload: options.maxFrameBytes },
      stats: false,
      peersCacheLength: options.maxPeersPerSwarm,
      filter: (infoHash, _params, cb) => { cb(options.refusal(infoHash) ?? null) }
    })
    this.onAnnounce = options.onAnnounce
  }

  override createSwarm (infoHash: string, cb: (err: Error | null, swarm?: Swarm) => void): void {
    process.nextTick(() => { cb(null, this.swarmOf(infoHash)) })
  }

  swarmOf (infoHash: string): HookedSwarm {
    const existing = this.torrents[infoHash] as HookedSwarm | undefined
    if (existing !== undefined) return existing
    const swarm = new HookedSwarm(infoHash, this)
    this.torrents[infoHash] = swarm
    return swarm
  }
}

/**
 * bittorrent-tracker's server without ports of its own: its swarms for our HTTP and UDP code, and its
 * WebTorrent signalling for the WebSocket upgrades the web server hands over.
 */
export class SwarmServer {
  private readonly server: HookedServer

  constructor (options: SwarmServerOptions) {
    this.server = new HookedServer(options)
    this.server.on('warning', options.onWarning)
    // An 'error' event without a listener would take the whole process down.
    this.server.on('error', options.onError)
  }

  /** The swarm of `infoHash`, created if there is none. */
  swarm (infoHash: string): TrackedSwarm {
    return this.server.swarmOf(infoHash)
  }

  get (infoHash: string): TrackedSwarm | undefined {
    return this.server.torrents[infoHash] as HookedSwarm | undefined
  }

  /** The infohashes of every swarm held. */
  infoHashes (): string[] {
    return Object.keys(this.server.torrents)
  }

  /** True while `swarm` is the one held for its infohash (not dropped). */
  holds (swarm: TrackedSwarm): boolean {
    return this.server.torrents[swarm.infoHash] === (swarm as HookedSwarm)
  }

  /** Forgets the swarm of `infoHash` and its peers. */
  drop (infoHash: string): void {
    delete this.server.torrents[infoHash]
  }

  /**
   * Completes a WebSocket upgrade and hands the socket to the server's WebTorrent signalling.
   * `accept` sees it first; it returns false to turn it away (having terminated it).
   */
  acceptWebSocket (req: IncomingMessage, socket: Duplex, head: Buffer, accept: (client: WebSocketClient) => boolean): void {
    const ws = this.server.ws!
    ws.handleUpgrade(req, socket, head, (client) => {
      if (accept(client)) ws.emit('connection', client, req)
    })
  }

  async close (): Promise<void> {
    await new Promise<void>((resolve) => { this.server.close(() => { resolve() }) })
  }
}

function accepted (params: AnnounceParams): AcceptedAnnounce {
  const { ip, port } = params
  return {
    transport: params.type,
    event: params.event ?? 'update',
    peer: typeof ip === 'string' && typeof port === 'number' ? { ip, port } : undefined,
    left: typeof params.left === 'number' ? params.left : Infinity
  }
}
