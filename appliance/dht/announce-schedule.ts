import type { InfoHash } from '../metainfo/metainfo.js'

/**
 * When each published infohash is next due for a DHT announce. Plain data and a clock passed in:
 * the engine asks for what is due, a few at a time, and reports how each went. Its size is the
 * catalog's: one entry per published torrent, none for a withdrawn one.
 */
export class AnnounceSchedule {
  private readonly dueAt = new Map<InfoHash, number>()
  private readonly inFlight = new Set<InfoHash>()
  /** Announced at least once since it was published (and not withdrawn since). */
  private readonly announced = new Set<InfoHash>()

  constructor (private readonly intervalMs: number, private readonly retryMs: number) {}

  /** Due at once: a newly published torrent is announced as soon as a slot is free. */
  add (infoHash: InfoHash, now: number): void {
    if (!this.dueAt.has(infoHash)) this.dueAt.set(infoHash, now)
  }

  remove (infoHash: InfoHash): void {
    this.dueAt.delete(infoHash)
    this.inFlight.delete(infoHash)
    this.announced.delete(infoHash)
  }

  has (infoHash: InfoHash): boolean {
    return this.dueAt.has(infoHash)
  }

  get announcedCount (): number {
    return this.announced.size
  }

  get inFlightCount (): number {
    return this.inFlight.size
  }

  /** Up to `limit` infohashes due by `now`, earliest first, marked in flight. */
  take (now: number, limit: number): InfoHash[] {
    if (limit <= 0) return []
    const due = [...this.dueAt].filter(([infoHash, at]) => at <= now && !this.inFlight.has(infoHash)).sort((a, b) => a[1] - b[1])
    const taken = due.slice(0, limit).map(([infoHash]) => infoHash)
    for (const infoHash of taken) this.inFlight.add(infoHash)
    return taken
  }

  /** An announce ended: the next one after the interval, or, when no node took it, after `retryMs`. */
  done (infoHash: InfoHash, now: number, ok: boolean): void {
    if (!this.inFlight.delete(infoHash) || !this.dueAt.has(infoHash)) return
    this.dueAt.set(infoHash, now + (ok ? this.intervalMs : this.retryMs))
    if (ok) this.announced.add(infoHash)
  }

  /** When the next announce is due, if any is waiting. */
  nextDueAt (): number | undefined {
    let next: number | undefined
    for (const [infoHash, at] of this.dueAt) {
      if (!this.inFlight.has(infoHash) && (next === undefined || at < next)) next = at
    }
    return next
  }
}
