import { isLoopback, type PeerAddress } from '../net/peer-address.js'

// What an announce asks and what it is given, whatever the transport (HTTP: BEP 3, UDP: BEP 15).

/** BEP 3's events; a regular interval announce (no event, BEP 15's "none") is an `update`. */
export type AnnounceEventName = 'started' | 'completed' | 'stopped' | 'update'

export interface AnnounceRequest {
  /** Hex. */
  readonly infoHash: string
  /** 20 bytes. */
  readonly peerId: Buffer
  /** The port the peer listens on; its address is always the request's source address. */
  readonly port: number
  /** Bytes the peer still needs; `Infinity` when it did not say. */
  readonly left: number
  readonly event: AnnounceEventName
  /** Already clamped with `clampNumwant`. */
  readonly numwant: number
}

export const DEFAULT_NUMWANT = 50
/** The most peers handed out at once (opentracker's and libtorrent's own limit). */
export const MAX_NUMWANT = 200

/**
 * A BEP 15 answer is a single datagram, kept within the IPv6 minimum MTU (1280) so that it is never
 * fragmented: 20 + 200 × 6 bytes of IPv4 peers fit, IPv6 peers (18 bytes) only 67.
 */
export const MAX_UDP_PEERS: Readonly<Record<4 | 6, number>> = { 4: MAX_NUMWANT, 6: 67 }

export function clampNumwant (requested: number | undefined): number {
  return Math.min(requested ?? DEFAULT_NUMWANT, MAX_NUMWANT)
}

/**
 * The seeder announcing to its own tracker: the everseed's port, from this very host (the request's
 * source is the address it reached us at, or loopback). It is in the swarm already, as the everseed.
 */
export function isEverseedItself (requester: PeerAddress, everseed: PeerAddress): boolean {
  return requester.port === everseed.port && (requester.ip === everseed.ip || isLoopback(requester.ip))
}
