import { isIP } from 'node:net'
import type { Catalog } from '../catalog/catalog.js'
import type { OpenFile } from './file-handle-cache.js'
import { LSD_PORT } from './lsd-message.js'

export interface LsdOptions {
  /**
   * IPv4 address of the interface to announce on and listen on. Default: the seeder's `host` when
   * that is a specific IPv4 address (so a seeder bound to 127.0.0.1 keeps LSD on loopback), else
   * the OS's choice, the interface of the default route.
   */
  readonly interfaceAddress?: string
  /** UDP port of the LSD group. Default 6771 (BEP 14); tests use another. */
  readonly port?: number
  /** Default 5 minutes, as BEP 14 suggests. */
  readonly intervalMs?: number
  /** Connect out to LAN peers that announce our torrents. Default true. */
  readonly acceptAnnounces?: boolean
}

export interface SeederOptions {
  readonly catalog: Catalog
  /** TCP port for every torrent. Default 6881; 0 picks a free one (read `seeder.port`). */
  readonly port?: number
  /** Address to listen on. Default: every address, IPv4 and IPv6. */
  readonly host?: string
  /**
   * Open peer connections, incoming and outgoing, handshaking or not. Default 200. When they are all
   * taken, a newcomer replaces a connection that is still handshaking or a peer that asks for nothing
   * (see `chooseReplaced`), or is refused.
   */
  readonly maxConnections?: number
  /** Peer connections of one torrent; when they are all taken, a newcomer replaces an idle peer as above. Default 50. */
  readonly maxConnectionsPerTorrent?: number
  /** Peer connections from one IP address (IPv6: one /64), incoming and outgoing, over all torrents. Default 8. */
  readonly maxConnectionsPerAddress?: number
  /** A peer must complete the BEP 3 handshake this soon after connecting. Default 10 s. */
  readonly handshakeMs?: number
  /** A peer that sends nothing (not even a keep-alive) for this long is disconnected. Default 180 s. */
  readonly idleMs?: number
  /** Regular upload slots across all torrents; one optimistic slot comes on top. Default 8. */
  readonly uploadSlots?: number
  /** Requests queued per peer before more are refused (BEP 6 reject, or dropped); a peer that keeps flooding is disconnected. Default 500 (libtorrent's default too). */
  readonly maxOutstandingRequests?: number
  /** Bytes per second for all peers together; 0 is unlimited. Default 0. */
  readonly uploadRateLimit?: number
  /** Bytes per second for each peer; 0 is unlimited. Default 0. */
  readonly peerUploadRateLimit?: number
  /** Byte budget of the read-ahead cache. Default 8 MiB. */
  readonly cacheBytes?: number
  /** Bytes read from disk at once (capped at the piece length). Default 128 KiB. */
  readonly readAheadBytes?: number
  /**
   * Bytes of blocks being read or queued on the sockets of all peers together; no block is started
   * beyond it until a socket has written one. Default 4 MiB: enough to keep every upload slot's
   * socket full on a fast link (each peer takes up to 256 KiB).
   */
  readonly queuedBytes?: number
  /**
   * A peer that has read none of the blocks queued for it for this long loses its upload slot, and gets
   * none until it reads; one that was given a slot and asked for nothing in that time loses it to the
   * next peer in line. Default 5 s.
   */
  readonly stallMs?: number
  /**
   * A peer that has read none of the blocks queued for it for this long is disconnected, so peers that
   * never read cannot keep the pool of `queuedBytes` from the others; while every pool buffer is
   * taken, after `stallMs` already. Default 20 s.
   */
  readonly stallDisconnectMs?: number
  /** Files kept open. Default 32. */
  readonly maxOpenFiles?: number
  /** How often the choker rotates the upload slots. Default 10 s. */
  readonly rechokeIntervalMs?: number
  /** How long a peer keeps an upload slot while others wait. Default 30 s. */
  readonly unchokeTurnMs?: number
  /** How long a peer keeps the optimistic slot. Default 30 s. */
  readonly optimisticUnchokeMs?: number
  /** BEP 14 local service discovery; `false` turns it off. Default on, with the defaults of `LsdOptions`. */
  readonly lsd?: LsdOptions | false
  /** True for the announce URLs of evertorrent's own tracker; every other HTTP/UDP tracker of a torrent gets announced to. Default: none are ours. */
  readonly isOwnTracker?: (url: string) => boolean
  /** Opens a content file for reading; tests inject failures. Default: `fs.promises.open(path, 'r')`. */
  readonly openFile?: OpenFile
  /** Monotonic milliseconds. Default `performance.now`. */
  readonly now?: () => number
}

export type ResolvedLsdOptions = Required<Omit<LsdOptions, 'interfaceAddress'>> & { readonly interfaceAddress: string | undefined }

export type ResolvedSeederOptions = Required<Omit<SeederOptions, 'host' | 'lsd' | 'openFile'>> & {
  readonly host: string | undefined
  readonly lsd: ResolvedLsdOptions | false
  readonly openFile: OpenFile | undefined
}

/** Defaults sized for a Raspberry Pi Zero 2 W (512 MB RAM, a USB 2 drive, a Wi-Fi uplink). */
export function resolveSeederOptions (options: SeederOptions): ResolvedSeederOptions {
  return {
    catalog: options.catalog,
    port: options.port ?? 6881,
    host: options.host,
    maxConnections: options.maxConnections ?? 200,
    maxConnectionsPerTorrent: options.maxConnectionsPerTorrent ?? 50,
    maxConnectionsPerAddress: options.maxConnectionsPerAddress ?? 8,
    handshakeMs: options.handshakeMs ?? 10_000,
    idleMs: options.idleMs ?? 180_000,
    uploadSlots: options.uploadSlots ?? 8,
    maxOutstandingRequests: options.maxOutstandingRequests ?? 500,
    uploadRateLimit: options.uploadRateLimit ?? 0,
    peerUploadRateLimit: options.peerUploadRateLimit ?? 0,
    cacheBytes: options.cacheBytes ?? 8 * 1024 * 1024,
    readAheadBytes: options.readAheadBytes ?? 128 * 1024,
    queuedBytes: options.queuedBytes ?? 4 * 1024 * 1024,
    stallMs: options.stallMs ?? 5_000,
    stallDisconnectMs: options.stallDisconnectMs ?? 20_000,
    maxOpenFiles: options.maxOpenFiles ?? 32,
    rechokeIntervalMs: options.rechokeIntervalMs ?? 10_000,
    unchokeTurnMs: options.unchokeTurnMs ?? 30_000,
    optimisticUnchokeMs: options.optimisticUnchokeMs ?? 30_000,
    lsd: options.lsd === false ? false : resolveLsd(options.lsd ?? {}, options.host),
    isOwnTracker: options.isOwnTracker ?? (() => false),
    openFile: options.openFile,
    now: options.now ?? (() => performance.now())
  }
}

function resolveLsd (lsd: LsdOptions, host: string | undefined): ResolvedLsdOptions {
  const hostInterface = host !== undefined && isIP(host) === 4 && host !== '0.0.0.0' ? host : undefined
  return {
    interfaceAddress: lsd.interfaceAddress ?? hostInterface,
    port: lsd.port ?? LSD_PORT,
    intervalMs: lsd.intervalMs ?? 5 * 60_000,
    acceptAnnounces: lsd.acceptAnnounces ?? true
  }
}
