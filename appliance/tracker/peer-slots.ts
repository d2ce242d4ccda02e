/**
 * The bytes a swarm takes at most per peer of its cap: a slot is a compact address (6 or 18 bytes),
 * peer id (20), seed flag (1), last announce (4) and recency links (8), with up to 4 index entries
 * of 4 bytes (75 bytes); each family's slots are at most the cap, and both families together at most
 * twice the cap (one family may shrink late, after the other grew).
 */
export const MAX_BYTES_PER_PEER = 2 * (18 + 20 + 1 + 4 + 8 + 4 * 4)

const MIN_CAPACITY = 4
const NONE = -1
const EMPTY_BYTES = Buffer.alloc(0)
const EMPTY_UINT32 = new Uint32Array(0)
const EMPTY_INT32 = new Int32Array(0)

/**
 * The peers of one address family in one swarm, packed: slot `i` is record `i` of a few typed arrays
 * (compact address + port, peer id, seed flag, last announce in seconds), slots `0 … count-1` in use.
 * A hash index (open addressing, linear probing) maps a compact address to its slot; removal moves
 * the last slot into the hole, so slots stay dense and random picks are index arithmetic. A doubly
 * linked list through the slots keeps them in announce order, so the least recently announced peer
 * (to expire or to evict) is found in O(1). Nothing is allocated per peer or per announce; the
 * arrays double or halve as the swarm grows or shrinks.
 */
export class PeerSlots {
  /** Bytes of one compact address + port: 6 (IPv4) or 18 (IPv6). */
  readonly recordBytes: number
  count = 0
  seeders = 0
  /** The least and the most recently announced slot, NONE when empty. */
  oldest = NONE
  newest = NONE
  private readonly seed: number
  private readonly maxCapacity: number
  private capacity = 0
  // Empty until the first peer: most swarms never see an IPv6 one.
  private records = EMPTY_BYTES
  private peerIds = EMPTY_BYTES
  private seeds: Uint8Array = EMPTY_BYTES
  private seen = EMPTY_UINT32
  private older = EMPTY_INT32
  private newer = EMPTY_INT32
  /** Slot + 1 per index entry, 0 for an empty one; its length is a power of two, at least twice the capacity. */
  private index = EMPTY_INT32

  /**
   * `seed` keys the hash, so that a stranger cannot choose addresses that all collide; `maxCapacity`
   * (the swarm's cap) stops the doubling there.
   */
  constructor (recordBytes: 6 | 18, seed: number, maxCapacity: number) {
    this.recordBytes = recordBytes
    this.seed = seed | 0
    this.maxCapacity = maxCapacity
  }

  /** The slot of the peer whose compact address is at `key[offset …]`, or NONE. */
  find (key: Buffer, offset: number): number {
    if (this.count === 0) return NONE
    const mask = this.index.length - 1
    for (let at = this.hash(key, offset) & mask; ; at = (at + 1) & mask) {
      const entry = this.index[at]!
      if (entry === 0) return NONE
      if (this.matches(entry - 1, key, offset)) return entry - 1
    }
  }

  /** Adds a peer not held yet (see `find`), as the most recently announced; returns its slot. */
  add (key: Buffer, offset: number, peerId: Buffer, peerIdOffset: number, seed: boolean, nowS: number): number {
    if (this.count === this.capacity) this.resize(Math.min(this.maxCapacity, Math.max(MIN_CAPACITY, this.capacity * 2)))
    const slot = this.count++
    key.copy(this.records, slot * this.recordBytes, offset, offset + this.recordBytes)
    this.seeds[slot] = 0
    this.insertIndex(slot)
    this.linkNewest(slot)
    this.update(slot, peerId, peerIdOffset, seed, nowS)
    return slot
  }

  /** Records an announce of the peer in `slot`: its id, seed flag and time, and makes it the most recent. */
  update (slot: number, peerId: Buffer, peerIdOffset: number, seed: boolean, nowS: number): void {
    peerId.copy(this.peerIds, slot * 20, peerIdOffset, peerIdOffset + 20)
    this.seeders += (seed ? 1 : 0) - this.seeds[slot]!
    this.seeds[slot] = seed ? 1 : 0
    this.seen[slot] = nowS
    if (slot !== this.newest) {
      this.unlink(slot)
      this.linkNewest(slot)
    }
  }

  remove (slot: number): void {
    this.removeIndex(slot)
    this.unlink(slot)
    this.seeders -= this.seeds[slot]!
    const last = --this.count
    if (slot !== last) this.move(last, slot)
    if (this.count === 0) this.release()
    else if (this.capacity > MIN_CAPACITY && this.count < this.capacity / 4) this.resize(Math.ceil(this.capacity / 2))
  }

  /** When the least recently announced peer last announced, in seconds; Infinity when empty. */
  oldestSeen (): number {
    return this.oldest === NONE ? Infinity : this.seen[this.oldest]!
  }

  isSeed (slot: number): boolean {
    return this.seeds[slot] === 1
  }

  /** Copies the compact address + port of `slot` to `out` at `offset`; returns the bytes written. */
  writeRecord (slot: number, out: Buffer, offset: number): number {
    return this.records.copy(out, offset, slot * this.recordBytes, (slot + 1) * this.recordBytes)
  }

  /** The 20-byte peer id of `slot`, as a view (valid until the next change). */
  peerIdOf (slot: number): Buffer {
    return this.peerIds.subarray(slot * 20, slot * 20 + 20)
  }

  /**
   * Puts up to `into.length` distinct slots other than `skip`, chosen at random, into `into` and
   * returns how many: a random start and a random step coprime with the count visit every slot once
   * in a scrambled order, with no allocation.
   */
  pick (skip: number, random: () => number, into: Int32Array, max = into.length): number {
    const count = this.count
    if (count === 0 || max <= 0) return 0
    let slot = Math.floor(random() * count)
    let step = 1 + Math.floor(random() * (count - 1))
    while (gcd(step, count) !== 1) step++
    let taken = 0
    for (let visited = 0; visited < count && taken < max; visited++, slot = (slot + step) % count) {
      if (slot !== skip) into[taken++] = slot
    }
    return taken
  }

  private matches (slot: number, key: Buffer, offset: number): boolean {
    const records = this.records
    const base = slot * this.recordBytes
    for (let byte = 0; byte < this.recordBytes; byte++) {
      if (records[base + byte] !== key[offset + byte]) return false
    }
    return true
  }

  /** Murmur3's 32-bit mix over the record's bytes, keyed by `seed`. */
  private hash (bytes: Buffer, offset: number): number {
    let hash = this.seed
    const end = offset + this.recordBytes
    for (let at = offset; at < end; at += 2) {
      let word = Math.imul((bytes[at]! << 8) | bytes[at + 1]!, 0xcc9e2d51)
      word = Math.imul((word << 15) | (word >>> 17), 0x1b873593)
      hash ^= word
      hash = Math.imul((hash << 13) | (hash >>> 19), 5) + 0xe6546b64
    }
    hash ^= this.recordBytes
    hash = Math.imul(hash ^ (hash >>> 16), 0x85ebca6b)
    hash = Math.imul(hash ^ (hash >>> 13), 0xc2b2ae35)
    return (hash ^ (hash >>> 16)) >>> 0
  }

  private insertIndex (slot: number): void {
    const mask = this.index.length - 1
    let at = this.hash(this.records, slot * this.recordBytes) & mask
    while (this.index[at] !== 0) at = (at + 1) & mask
    this.index[at] = slot + 1
  }

  /** Where the index holds `slot`. */
  private indexOf (slot: number): number {
    const mask = this.index.length - 1
    let at = this.hash(this.records, slot * this.recordBytes) & mask
    while (this.index[at] !== slot + 1) at = (at + 1) & mask
    return at
  }

  /** Linear probing's deletion without tombstones: later entries of the probe run shift back into the hole. */
  private removeIndex (slot: number): void {
    const index = this.index
    const mask = index.length - 1
    let hole = this.indexOf(slot)
    index[hole] = 0
    for (let at = (hole + 1) & mask; index[at] !== 0; at = (at + 1) & mask) {
      const entry = index[at]!
      const home = this.hash(this.records, (entry - 1) * this.recordBytes) & mask
      // The entry may fill the hole unless its home lies cyclically in (hole, at].
      const stays = hole <= at ? (home > hole && home <= at) : (home > hole || home <= at)
      if (stays) continue
      index[hole] = entry
      index[at] = 0
      hole = at
    }
  }

  /** Moves the peer in slot `from` (the last) to the free slot `to`. */
  private move (from: number, to: number): void {
    this.index[this.indexOf(from)] = to + 1
    this.records.copy(this.records, to * this.recordBytes, from * this.recordBytes, (from + 1) * this.recordBytes)
    this.peerIds.copy(this.peerIds, to * 20, from * 20, from * 20 + 20)
    this.seeds[to] = this.seeds[from]!
    this.seen[to] = this.seen[from]!
    const older = this.older[from]!
    const newer = this.newer[from]!
    this.older[to] = older
    this.newer[to] = newer
    if (older === NONE) this.oldest = to
    else this.newer[older] = to
    if (newer === NONE) this.newest = to
    else this.older[newer] = to
  }

  private linkNewest (slot: number): void {
    this.older[slot] = this.newest
    this.newer[slot] = NONE
    if (this.newest === NONE) this.oldest = slot
    else this.newer[this.newest] = slot
    this.newest = slot
  }

  private unlink (slot: number): void {
    const older = this.older[slot]!
    const newer = this.newer[slot]!
    if (older === NONE) this.oldest = newer
    else this.newer[older] = newer
    if (newer === NONE) this.newest = older
    else this.older[newer] = older
  }

  private release (): void {
    this.capacity = 0
    this.records = this.peerIds = this.seeds = EMPTY_BYTES
    this.seen = EMPTY_UINT32
    this.older = this.newer = this.index = EMPTY_INT32
  }

  private resize (capacity: number): void {
    const count = this.count
    this.records = grown(this.records, Buffer.alloc(capacity * this.recordBytes), count * this.recordBytes)
    this.peerIds = grown(this.peerIds, Buffer.alloc(capacity * 20), count * 20)
    this.seeds = grown(this.seeds, new Uint8Array(capacity), count)
    this.seen = grown(this.seen, new Uint32Array(capacity), count)
    this.older = grown(this.older, new Int32Array(capacity), count)
    this.newer = grown(this.newer, new Int32Array(capacity), count)
    this.capacity = capacity
    let indexLength = 1
    while (indexLength < capacity * 2) indexLength *= 2
    this.index = new Int32Array(indexLength)
    for (let slot = 0; slot < count; slot++) this.insertIndex(slot)
  }
}

function grown<T extends Uint8Array | Uint32Array | Int32Array> (from: T, to: T, length: number): T {
  to.set(from.subarray(0, length))
  return to
}

function gcd (a: number, b: number): number {
  while (b !== 0) {
    const rest = a % b
    a = b
    b = rest
  }
  return a
}
