import { formatPeerAddress, type PeerAddress } from '../net/peer-address.js'
import { MAX_PEX_ADDED, MAX_PEX_DROPPED, type PexPeer, type PexUpdate } from './pex-message.js'

/** BEP 11: after the first message, at most one a minute to each peer. */
export const PEX_INTERVAL_MS = 60_000

/** The peers of a swarm that others can reach, keyed by `pexKey` of their address. */
export type PexView = ReadonlyMap<string, PexPeer>

/** The key of an address in a `PexView`: `ip:port`, IPv6 in brackets. */
export function pexKey (address: PeerAddress): string {
  return formatPeerAddress(address.ip, address.port)
}

/**
 * What one peer has been told about its swarm. Each message names the peers that are new to it
 * (`added`) and those it was told of that have left (`dropped`), at most 50 of each (BEP 11); the
 * first goes out as soon as there is something to say, each later one a minute or more after the
 * previous. What it remembers never outgrows the largest its swarm has been: a message that drops fewer
 * than 50 leaves only peers of the swarm, one that drops 50 adds no more than it drops.
 */
export class PexFeed {
  /** Told as added and not dropped since, by `pexKey`. */
  private readonly told = new Map<string, PeerAddress>()
  private lastSentAt: number | undefined

  /** The update due at `now` for the peer reachable at `ownKey` (left out: never a peer to itself), or undefined. */
  next (now: number, view: PexView, ownKey: string | undefined): PexUpdate | undefined {
    if (this.lastSentAt !== undefined && now - this.lastSentAt < PEX_INTERVAL_MS) return undefined
    const added: PexPeer[] = []
    for (const [key, peer] of view) {
      if (added.length === MAX_PEX_ADDED) break
      if (key !== ownKey && !this.told.has(key)) added.push(peer)
    }
    const dropped: PeerAddress[] = []
    for (const [key, address] of this.told) {
      if (dropped.length === MAX_PEX_DROPPED) break
      if (!view.has(key)) dropped.push(address)
    }
    if (added.length === 0 && dropped.length === 0) return undefined
    for (const peer of added) this.told.set(pexKey(peer.address), peer.address)
    for (const address of dropped) this.told.delete(pexKey(address))
    this.lastSentAt = now
    return { added, dropped }
  }
}
