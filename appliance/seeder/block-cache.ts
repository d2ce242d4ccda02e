/**
 * A least-recently-used cache of read-ahead spans with a byte budget. Keys are grouped by an owner
 * (the infohash) so that everything of one torrent can be dropped when it changes or goes away.
 */
export class BlockCache {
  readonly budgetBytes: number
  private readonly entries = new Map<string, { readonly owner: string, readonly bytes: Buffer }>()
  private usedBytes = 0

  constructor (budgetBytes: number) {
    this.budgetBytes = budgetBytes
  }

  /** Bytes held right now; never more than the budget. */
  get size (): number {
    return this.usedBytes
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
    this.remove(id)
    while (this.usedBytes + bytes.length > this.budgetBytes) {
      const oldest = this.entries.keys().next().value as string
      this.remove(oldest)
    }
    this.entries.set(id, { owner, bytes })
    this.usedBytes += bytes.length
  }

  /** Drops every span of one owner. */
  forget (owner: string): void {
    for (const [id, entry] of this.entries) {
      if (entry.owner === owner) this.remove(id)
    }
  }

  private remove (id: string): void {
    const entry = this.entries.get(id)
    if (entry === undefined) return
    this.entries.delete(id)
    this.usedBytes -= entry.bytes.length
  }
}
