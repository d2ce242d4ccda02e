// Minimal declarations for bittorrent-tracker 11, which ships none: each part declares only what its
// one user (the adapter named below) and the tests call. What the adapters rely on beyond the README
// is pinned by test/contracts/.

// --- Server: used only through appliance/tracker/swarm-server.ts ------------------------------
declare module 'bittorrent-tracker/server' {
  import { EventEmitter } from 'node:events'
  import type { IncomingMessage, ServerResponse } from 'node:http'
  import type { Duplex } from 'node:stream'

  /** A peer as a swarm stores and hands it out; `peerId` is hex. */
  export interface SwarmPeer {
    peerId: string
    ip: string
    port: number
  }

  /**
   * An announce as the server's parsers (or our HTTP and UDP code) hand it to a swarm. Hashes and ids
   * are hex. The announce the server makes itself when a WebSocket closes (`stopped`) carries only
   * `type`, `event`, `numwant` and `peer_id`.
   */
  export interface AnnounceParams {
    type: 'http' | 'udp' | 'ws'
    event?: string
    info_hash?: string
    peer_id: string
    ip?: string
    port?: number
    /** The swarm's key for a non-WebSocket peer, `ip:port` (IPv6 in brackets). */
    addr?: string
    left?: number
    numwant: number
    [key: string]: unknown
  }

  export interface SwarmAnnounceResult {
    complete: number
    incomplete: number
    peers: SwarmPeer[]
  }

  export class Swarm {
    constructor (infoHash: string, server: Server)
    readonly infoHash: string
    complete: number
    incomplete: number
    /** The `lru` package's store of the swarm's peers, at most the server's `peersCacheLength`. */
    readonly peers: { readonly length: number }
    /** Calls back at once; without a callback, a `stopped` announce (a closed WebSocket's) answers nothing. */
    announce (params: AnnounceParams, cb?: (err: Error | null, result?: SwarmAnnounceResult) => void): void
  }

  /** An upgraded socket (ws's WebSocket). */
  export interface WebSocketClient extends EventEmitter {
    terminate (): void
  }

  export interface WebSocketServer extends EventEmitter {
    handleUpgrade (req: IncomingMessage, socket: Duplex, head: Buffer, done: (client: WebSocketClient) => void): void
  }

  export interface ServerOptions {
    /** Announce interval told to clients, in milliseconds. */
    interval?: number
    http?: boolean
    udp?: boolean
    /** Options over ws's WebSocketServer's, e.g. `maxPayload` (bytes of one message, 100 MiB by default). */
    ws?: boolean | { noServer: true, maxPayload?: number }
    stats?: boolean
    /** Peers kept per swarm (an LRU; the least recently announced goes first). Default 1000. Not in the README. */
    peersCacheLength?: number
    /** Calls back with an error to refuse an announce; its message becomes the failure reason. */
    filter?: (infoHash: string, params: AnnounceParams, cb: (err: Error | null) => void) => void
  }

  export default class Server extends EventEmitter {
    /** The swarm class `createSwarm` makes (not in the README; lib/server/swarm.js calls it an interface to support). */
    static Swarm: typeof Swarm
    constructor (opts?: ServerOptions)
    /** Every swarm by hex infohash; the README shows reading it. */
    readonly torrents: Record<string, Swarm>
    /** Null with `ws: false`. */
    readonly ws: WebSocketServer | null
    /** How the server makes the swarm of an infohash it has none for; not in the README. */
    createSwarm (infoHash: string, cb: (err: Error | null, swarm?: Swarm) => void): void
    /** The library's own HTTP announce/scrape handling (test/seeder/ uses it as a foreign tracker). */
    onHttpRequest (req: IncomingMessage, res: ServerResponse, opts?: { action?: 'announce' | 'scrape' }): void
    close (cb?: (err: Error | null) => void): void
  }
}

// --- Client: used only through appliance/seeder/tracker-announcer.ts --------------------------
declare module 'bittorrent-tracker' {
  import { EventEmitter } from 'node:events'

  export interface ClientAnnounceOptions {
    uploaded?: number
    downloaded?: number
    left?: number
    numwant?: number
  }

  export interface ClientOptions {
    /** Hex string or 20 bytes. */
    infoHash: string | Uint8Array
    /** Hex string or 20 bytes. */
    peerId: string | Uint8Array
    announce: string | string[]
    /** The TCP port peers reach us on. */
    port: number
    /** Called before every announce (interval ones included). */
    getAnnounceOpts?: () => ClientAnnounceOptions
  }

  /** Emits 'peer' (`ip:port`, IPv6 in brackets), 'update', 'warning' and 'error'. */
  export default class Client extends EventEmitter {
    constructor (opts: ClientOptions)
    readonly destroyed: boolean
    start (opts?: ClientAnnounceOptions): void
    stop (opts?: ClientAnnounceOptions): void
    update (opts?: ClientAnnounceOptions): void
    /** Calls back once every tracker's pending request ended (or after 1 s). */
    destroy (cb?: (err?: Error | null) => void): void
  }
}
