/**
 * A least-recently-used cache of read-ahead spans with a byte budget. Keys are grouped by an owner
 * (the infohash) so that everything of one torrent can be dropped when it changes or goes away.
 *
 * The memory of evicted spans is kept (up to an eighth of the budget per span size) and handed out
 * again by `allocate`. Left to the garbage collector, spans outlive a young-generation scavenge while
 * cached, so they die in the old generation, which V8 collects only after tens of MB of dead buffers
 * have piled up: measured, 200 MB of spans allocated and up to 50 MB dead at once while 20 peers
 * download. A span is therefore never handed out beyond the cache: readers copy out of it at once.
 */
export class BlockCache {
  readonly budgetBytes: number
  private readonly entries = new Map<string, { readonly owner: string, readonly bytes: Buffer }>()
  /** The memory of evicted spans by its size, to be read into again. */
  private readonly spare = new Map<number, ArrayBuffer[]>()
  private usedBytes = 0
  private spareBytes = 0

  constructor (budgetBytes: number) {
    this.budgetBytes = budgetBytes
  }

  /** Bytes held right now; never more than the budget. */
  get size (): number {
    return this.usedBytes
  }

  /** Bytes of evicted spans kept for reuse. */
  get spareSize (): number {
    return this.spareBytes
  }

  /**
   * Memory for a new span of up to `capacity` bytes (read into it, then `set` it, or a part of it):
   * that of an evicted span of the same capacity if there is one. Span capacities should be few.
   */
  allocate (capacity: number): Buffer {
    const memory = this.spare.get(capacity)?.pop()
    if (memory === undefined) return Buffer.allocUnsafeSlow(capacity)
    this.spareBytes -= capacity
    return Buffer.from(memory)
  }

  get (owner: string, key: string): Buffer | undefined {
    const id = `${owner}/${key}`
    const entry = this.entries.get(id)
    if (entry === undefined) return undefined
    this.entries.delete(id)
    this.entries.set(id, entry)
    return entry.bytes
  }

  /** Keeps `bytes`, evicting the least recently used spans to stay within budget. */
  set (owner: string, key: string, bytes: Buffer): void {
    if (bytes.length > this.budgetBytes) return
    const id = `${owner}/${key}`
    this.remove(id, false)
    while (this.usedBytes + bytes.length > this.budgetBytes) {
      const oldest = this.entries.keys().next().value as string
      this.remove(oldest, true)
    }
    this.entries.set(id, { owner, bytes })
    this.usedBytes += bytes.length
  }

  /** Drops every span of one owner (to the garbage collector: this is rare). */
  forget (owner: string): void {
    for (const [id, entry] of this.entries) {
      if (entry.owner === owner) this.remove(id, false)
    }
  }

  private remove (id: string, recycle: boolean): void {
    const entry = this.entries.get(id)
    if (entry === undefined) return
    this.entries.delete(id)
    this.usedBytes -= entry.bytes.length
    if (recycle) this.keepSpare(entry.bytes)
  }

  private keepSpare (bytes: Buffer): void {
    const memory = bytes.buffer as ArrayBuffer
    const list = this.spare.get(memory.byteLength) ?? []
    if ((list.length + 1) * memory.byteLength > this.budgetBytes / 8) return
    list.push(memory)
    this.spare.set(memory.byteLength, list)
    this.spareBytes += memory.byteLength
  }
}
