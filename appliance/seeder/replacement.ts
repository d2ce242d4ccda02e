import { addressKey } from '../net/connection-gate.js'

/**
 * A peer that has asked for nothing this long may be replaced by a newcomer when the seeder or its
 * torrent is full, and a host that lost a connection so may not replace another for as long. Long
 * enough for any real peer to answer across the world (`interested` after the handshake, a request
 * after an unchoke: one round trip each).
 */
export const REPLACE_AFTER_MS = 5_000

/** What the replacement rule needs to know about one open connection. */
export interface ReplacementCandidate {
  /** Unique per connection; lower keys connected earlier. */
  readonly key: number
  /** When the connection was made (accepted, or dialled). */
  readonly connectedAt: number
  /** False until the BEP 3 handshake named a torrent we serve. */
  readonly handshaken: boolean
  /**
   * For a peer past the handshake: since when it has wanted nothing from us, or undefined while it
   * does (it has requests being served, or waits its turn for an upload slot). See `PeerSession.idleSince`.
   */
  readonly idleSince: number | undefined
}

/**
 * Whom a newcomer replaces when the seeder or a torrent has no connection left to give, or undefined
 * when it must be refused: the connection that has been handshaking the longest (as libtorrent drops
 * the oldest half-open connection first), else the peer idle the longest once it has been idle for
 * `replaceAfterMs`. A peer downloading or waiting for its turn is never replaced. A real peer sends its
 * handshake at once, so it would only be replaced before it arrives if every connection older than it
 * were replaced first; a newcomer that handshook keeps its place for `replaceAfterMs`, time for a real
 * peer to ask for something.
 */
export function chooseReplaced (candidates: readonly ReplacementCandidate[], now: number, replaceAfterMs: number): number | undefined {
  let handshaking: ReplacementCandidate | undefined
  let idle: ReplacementCandidate | undefined
  for (const candidate of candidates) {
    if (!candidate.handshaken) {
      if (handshaking === undefined || candidate.connectedAt < handshaking.connectedAt) handshaking = candidate
      continue
    }
    const since = candidate.idleSince
    if (since === undefined || now - since < replaceAfterMs) continue
    if (idle === undefined || since < idle.idleSince! || (since === idle.idleSince && candidate.key < idle.key)) idle = candidate
  }
  return (handshaking ?? idle)?.key
}

/**
 * The hosts (IPv6: /64) that lost a connection to a newcomer lately. Such a host may not replace
 * anyone for `replaceAfterMs`: else a replaced connection opened again at once would replace the
 * next one, and so on, until no connection is old enough for a real newcomer to replace, and two
 * newcomers could take each other's place for ever. Holds `capacity` hosts at most, oldest dropped first.
 */
export class ReplacedHosts {
  /** By host key, in the order they were replaced. */
  private readonly since = new Map<string, number>()

  constructor (private readonly replaceAfterMs: number, private readonly capacity: number) {}

  get size (): number {
    return this.since.size
  }

  record (host: string, now: number): void {
    const key = addressKey(host)
    this.since.delete(key)
    this.since.set(key, now)
    this.forgetOld(now)
  }

  /** True when `host` lost a connection less than `replaceAfterMs` ago. */
  barred (host: string, now: number): boolean {
    this.forgetOld(now)
    return this.since.has(addressKey(host))
  }

  private forgetOld (now: number): void {
    for (const [key, at] of this.since) {
      if (now - at < this.replaceAfterMs && this.since.size <= this.capacity) return
      this.since.delete(key)
    }
  }
}
