import { isIP } from 'node:net'
import type { Catalog } from '../catalog/catalog.js'
import type { Settings } from '../config/settings.js'
import type { OpenFile } from './file-handle-cache.js'
import { LSD_PORT } from './lsd-message.js'

/**
 * `prefer`: plaintext and MSE peers are accepted (RC4 chosen when the peer offers it), dialled peers
 * are offered RC4 or plaintext inside MSE and, if the MSE attempt fails, dialled once more in plaintext
 * (libtorrent's "enabled"); `require`: MSE with RC4 only, both ways; `off`: plaintext only.
 */
export type EncryptionPolicy = 'prefer' | 'require' | 'off'

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

/**
 * The options the settings table gives (see `seederOptionsFrom`). Required: their defaults are the
 * table's, written once there; tests build a seeder from `seederOptionsFrom(defaultSettings())`.
 */
export interface SettingsOptions {
  /** TCP port for every torrent; 0 picks a free one (read `seeder.port`). */
  readonly port: number
  /** Address to listen on; undefined: every address, IPv4 and IPv6. */
  readonly host?: string | undefined
  /**
   * Open peer connections, incoming and outgoing, handshaking or not. When they are all taken, a
   * newcomer replaces a connection that is still handshaking or a peer that asks for nothing (see
   * `chooseReplaced`), or is refused.
   */
  readonly maxConnections: number
  /** Peer connections of one torrent; when they are all taken, a newcomer replaces an idle peer as above. */
  readonly maxConnectionsPerTorrent: number
  /** Peer connections from one IP address (IPv6: one /64), incoming and outgoing, over all torrents. */
  readonly maxConnectionsPerAddress: number
  /** A peer must complete the BEP 3 handshake this soon after connecting. */
  readonly handshakeMs: number
  /** MSE/PE with peers, both ways (see `EncryptionPolicy`). */
  readonly encryption: EncryptionPolicy
  /** A peer that sends nothing (not even a keep-alive) for this long is disconnected. */
  readonly idleMs: number
  /** Regular upload slots across all torrents; one optimistic slot comes on top. */
  readonly uploadSlots: number
  /** Requests queued per peer before more are refused (BEP 6 reject, or dropped); a peer that keeps flooding is disconnected. */
  readonly maxOutstandingRequests: number
  /** Bytes per second for all peers together; 0 is unlimited. */
  readonly uploadRateLimit: number
  /** Bytes per second for each peer; 0 is unlimited. */
  readonly peerUploadRateLimit: number
  /** Byte budget of the read-ahead cache. */
  readonly cacheBytes: number
  /**
   * Bytes of blocks being read or queued on the sockets of all peers together; no block is started
   * beyond it until a socket has written one. 4 MiB keeps every upload slot's socket full on a fast
   * link (each peer takes up to 256 KiB).
   */
  readonly queuedBytes: number
  /**
   * A peer that has read none of the blocks queued for it for this long loses its upload slot, and gets
   * none until it reads; one that was given a slot and asked for nothing in that time loses it to the
   * next peer in line.
   */
  readonly stallMs: number
  /**
   * A peer that has read none of the blocks queued for it for this long is disconnected, so peers that
   * never read cannot keep the pool of `queuedBytes` from the others; while every pool buffer is
   * taken, after `stallMs` already.
   */
  readonly stallDisconnectMs: number
  /** Files kept open. */
  readonly maxOpenFiles: number
  /** BEP 14 local service discovery; `false` turns it off, `{}` has the defaults of `LsdOptions`. */
  readonly lsd: LsdOptions | false
  /** BEP 11 peer exchange: tell the peers of a public torrent about each other. */
  readonly pex: boolean
}

/** The seeder's options from the settings table; the one place its keys are read (at start and on reload, see `Seeder.apply`). */
export function seederOptionsFrom (settings: Settings): SettingsOptions {
  const host = settings['network.listen_host']
  return {
    port: settings['seeder.port'],
    host: host === '' ? undefined : host,
    maxConnections: settings['seeder.max_connections'],
    maxConnectionsPerTorrent: settings['seeder.max_connections_per_torrent'],
    maxConnectionsPerAddress: settings['seeder.max_connections_per_address'],
    handshakeMs: settings['seeder.handshake_seconds'] * 1000,
    encryption: settings['seeder.encryption'] as EncryptionPolicy,
    idleMs: settings['seeder.idle_seconds'] * 1000,
    uploadSlots: settings['seeder.upload_slots'],
    maxOutstandingRequests: settings['seeder.max_requests_per_peer'],
    uploadRateLimit: settings['seeder.upload_rate_limit'],
    peerUploadRateLimit: settings['seeder.peer_upload_rate_limit'],
    cacheBytes: settings['seeder.cache_size'],
    queuedBytes: settings['seeder.block_pool_size'],
    stallMs: settings['seeder.stall_seconds'] * 1000,
    stallDisconnectMs: settings['seeder.stall_disconnect_seconds'] * 1000,
    maxOpenFiles: settings['seeder.max_open_files'],
    lsd: settings['seeder.local_discovery'] ? {} : false,
    pex: settings['seeder.pex']
  }
}

export interface SeederOptions extends SettingsOptions {
  readonly catalog: Catalog
  /** Bytes read from disk at once, a power of two (capped at the piece length, and by the cache size: see readAheadFor). Default 256 KiB. */
  readonly readAheadBytes?: number
  /** How often the choker rotates the upload slots. Default 10 s. */
  readonly rechokeIntervalMs?: number
  /** How long a peer keeps an upload slot while others wait. Default 30 s. */
  readonly unchokeTurnMs?: number
  /** How long a peer keeps the optimistic slot. Default 30 s. */
  readonly optimisticUnchokeMs?: number
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

/** The defaults of the options that are not settings, sized for a Raspberry Pi Zero 2 W (512 MB RAM, a USB 2 drive, a Wi-Fi uplink). */
export function resolveSeederOptions (options: SeederOptions): ResolvedSeederOptions {
  return {
    ...options,
    host: options.host,
    readAheadBytes: options.readAheadBytes ?? 256 * 1024,
    rechokeIntervalMs: options.rechokeIntervalMs ?? 10_000,
    unchokeTurnMs: options.unchokeTurnMs ?? 30_000,
    optimisticUnchokeMs: options.optimisticUnchokeMs ?? 30_000,
    lsd: options.lsd === false ? false : resolveLsd(options.lsd, options.host),
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
