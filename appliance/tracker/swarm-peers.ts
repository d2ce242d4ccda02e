import type { AnnounceEventName } from './announce.js'
import { PeerSlots } from './peer-slots.js'

/** No slot: the peer left (or was never held). */
export const NO_SLOT = -1

export interface SwarmPeersOptions {
  /** Peers held at most, both families together; beyond it the least recently announced one goes. */
  readonly maxPeers: number
  /** Keys the hash index of the swarm's slots. */
  readonly hashSeed: number
}

/**
 * One torrent's HTTP and UDP peers, IPv4 and IPv6 apart (each family is answered from its own slots),
 * and its counts. A peer is keyed by its compact address and port, as the tracker recorded it.
 */
export class SwarmPeers {
  readonly v4: PeerSlots
  readonly v6: PeerSlots
  /** `completed` announces seen, BEP 48's `downloaded`. */
  completed = 0
  private readonly maxPeers: number

  constructor (options: SwarmPeersOptions) {
    this.maxPeers = options.maxPeers
    this.v4 = new PeerSlots(6, options.hashSeed, options.maxPeers)
    this.v6 = new PeerSlots(18, options.hashSeed, options.maxPeers)
  }

  get count (): number {
    return this.v4.count + this.v6.count
  }

  get seeders (): number {
    return this.v4.seeders + this.v6.seeders
  }

  get leechers (): number {
    return this.count - this.seeders
  }

  slotsOf (family: 4 | 6): PeerSlots {
    return family === 4 ? this.v4 : this.v6
  }

  /**
   * Records an announce from the peer whose compact address is at `key[keyOffset …]`: `stopped`
   * removes it, anything else adds or refreshes it. Returns its slot in `slotsOf(family)`, or NO_SLOT
   * once it left.
   */
  announce (family: 4 | 6, key: Buffer, keyOffset: number, peerId: Buffer, peerIdOffset: number, event: AnnounceEventName, seed: boolean, nowS: number): number {
    const slots = this.slotsOf(family)
    const slot = slots.find(key, keyOffset)
    if (event === 'completed') this.completed += 1
    if (event === 'stopped') {
      if (slot !== NO_SLOT) slots.remove(slot)
      return NO_SLOT
    }
    if (slot !== NO_SLOT) {
      slots.update(slot, peerId, peerIdOffset, seed, nowS)
      return slot
    }
    if (this.count >= this.maxPeers) this.evictOldest()
    return slots.add(key, keyOffset, peerId, peerIdOffset, seed, nowS)
  }

  /** Removes up to `max` peers whose last announce came before `beforeS`, oldest first; returns how many. */
  expire (beforeS: number, max = Infinity): number {
    let removed = 0
    while (removed < max) {
      const slots = this.v4.oldestSeen() <= this.v6.oldestSeen() ? this.v4 : this.v6
      if (slots.oldestSeen() >= beforeS) break
      slots.remove(slots.oldest)
      removed++
    }
    return removed
  }

  private evictOldest (): void {
    const slots = this.v4.oldestSeen() <= this.v6.oldestSeen() ? this.v4 : this.v6
    slots.remove(slots.oldest)
  }
}
