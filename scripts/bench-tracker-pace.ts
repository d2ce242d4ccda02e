/**
 * The load generator's fixed offered rate. Announce `n` is due `n / rate` seconds after the start. A
 * generator that falls further behind than `maxLateMs` (descheduled on a shared machine) skips the
 * announces it missed rather than sending them in one burst: a burst would overflow the tracker's
 * receive buffer and count as the tracker's loss what was the generator's lateness. Skipped announces
 * are not sent, so they are not in the loss either; the generator reports how many there were.
 */
export interface Due {
  /** The next announce to send; past `next` when some were skipped. */
  readonly from: number
  /** Send up to here (exclusive). */
  readonly until: number
  readonly skipped: number
}

export function announcesDue (elapsedMs: number, rate: number, next: number, total: number, maxLateMs: number): Due {
  const until = Math.min(total, Math.floor(elapsedMs / 1000 * rate))
  const earliest = Math.max(next, until - Math.ceil(maxLateMs / 1000 * rate))
  return { from: earliest, until: Math.max(until, earliest), skipped: earliest - next }
}
