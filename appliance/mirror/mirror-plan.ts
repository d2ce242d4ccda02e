/** An item the followed box publishes now, as its catalog or feed lists it. */
export interface UpstreamItem {
  /** Hex, lower case. */
  readonly infoHash: string
  readonly name: string
  /** The content's size, as listed (checked against the torrent once fetched). */
  readonly bytes: number
}

/** An item of a mirror as this box remembers it between polls and restarts. */
export interface MirroredItem extends UpstreamItem {
  /** Date.now() of the poll that first listed it. */
  readonly firstSeenAt: number
  /** Date.now() of the first poll that no longer listed it; undefined while it is listed. */
  readonly goneAt?: number
}

export interface MirrorBounds {
  /** The most the kept items may take; 0: no limit. */
  readonly maxBytes: number
  readonly keepDays: number
}

/** Why an item is not (or no longer) kept. */
export type DropReason = 'gone-upstream' | 'over-quota'

export interface MirrorPlan {
  /** Every item to remember, kept or not: what the next poll starts from. */
  readonly items: readonly MirroredItem[]
  /** The items to hold: downloaded (or kept, when they are already), newest first. */
  readonly keep: readonly MirroredItem[]
  /** Items not held, with why: a held one among them is deleted. */
  readonly drop: ReadonlyArray<{ readonly item: MirroredItem, readonly reason: DropReason }>
}

const DAY_MS = 24 * 60 * 60 * 1000

/**
 * What a mirror holds after a poll that listed `upstream`: every listed item, and the items no longer
 * listed for less than `keepDays`, newest first, as many as fit in `maxBytes` (the oldest go first;
 * an item larger than the whole quota is never held). Items gone for longer are forgotten.
 */
export function planMirror (remembered: readonly MirroredItem[], upstream: readonly UpstreamItem[], now: number, bounds: MirrorBounds): MirrorPlan {
  const listed = new Map(upstream.map((item) => [item.infoHash, item]))
  const before = new Map(remembered.map((item) => [item.infoHash, item]))
  const items: MirroredItem[] = []
  const drop: Array<{ item: MirroredItem, reason: DropReason }> = []
  for (const item of upstream) {
    if (items.some((other) => other.infoHash === item.infoHash)) continue
    const known = before.get(item.infoHash)
    items.push({ infoHash: item.infoHash, name: item.name, bytes: item.bytes, firstSeenAt: known?.firstSeenAt ?? now })
  }
  for (const item of remembered) {
    if (listed.has(item.infoHash)) continue
    const gone = { ...item, goneAt: item.goneAt ?? now }
    if (now - gone.goneAt >= bounds.keepDays * DAY_MS) drop.push({ item: gone, reason: 'gone-upstream' })
    else items.push(gone)
  }
  const newestFirst = [...items].sort((a, b) => b.firstSeenAt - a.firstSeenAt || a.infoHash.localeCompare(b.infoHash))
  const keep: MirroredItem[] = []
  let bytes = 0
  for (const item of newestFirst) {
    if (bounds.maxBytes === 0 || bytes + item.bytes <= bounds.maxBytes) {
      keep.push(item)
      bytes += item.bytes
    } else {
      drop.push({ item, reason: 'over-quota' })
    }
  }
  return { items, keep, drop }
}
