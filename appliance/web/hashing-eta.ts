import type { ItemView } from '../status/status-model.js'

interface Start {
  readonly at: number
  readonly bytes: number
}

/** Below this much hashing time the rate is a guess, and no ETA is shown. */
const MIN_ELAPSED_MS = 1000

/**
 * Time left for items being hashed, from the average rate since each item's hashing was first seen.
 * The average over the whole run is steadier than the last interval's rate, which jumps with the
 * page cache and with other items taking the hashing threads.
 */
export class HashingEta {
  private readonly starts = new Map<string, Start>()

  constructor (private readonly now: () => number = Date.now) {}

  /** Seconds left for `item` (one in `hashing` state), undefined until there is a rate to go by. */
  etaOf (item: ItemView): { etaSeconds?: number } {
    const bytes = item.bytesHashed ?? 0
    const now = this.now()
    const start = this.starts.get(item.path)
    if (start === undefined || bytes < start.bytes) {
      this.starts.set(item.path, { at: now, bytes })
      return {}
    }
    const elapsed = now - start.at
    const done = bytes - start.bytes
    if (elapsed < MIN_ELAPSED_MS || done <= 0) return {}
    const left = Math.max(0, (item.totalBytes ?? 0) - bytes)
    return { etaSeconds: Math.ceil(left / (done / elapsed) / 1000) }
  }

  /** Forgets items that are no longer hashing, so a rehash starts from its own start. */
  keepOnly (items: readonly ItemView[]): void {
    const hashing = new Set(items.filter((item) => item.state === 'hashing').map((item) => item.path))
    for (const path of this.starts.keys()) {
      if (!hashing.has(path)) this.starts.delete(path)
    }
  }
}
