import type { Clock, TimerHandle } from '../../appliance/hardware/clock.js'

interface Pending {
  readonly at: number
  readonly order: number
  readonly callback: () => void
}

/** A clock that moves only when told to, running the timers that fall due on the way, in order. */
export class FakeClock implements Clock {
  private time: number
  private readonly pending = new Map<TimerHandle, Pending>()
  private order = 0

  constructor (start = 1_700_000_000_000) {
    this.time = start
  }

  readonly now = (): number => this.time

  readonly setTimeout = (callback: () => void, ms: number): TimerHandle => {
    const handle = {}
    this.pending.set(handle, { at: this.time + Math.max(0, ms), order: this.order++, callback })
    return handle
  }

  readonly clearTimeout = (timer: TimerHandle | undefined): void => {
    if (timer !== undefined) this.pending.delete(timer)
  }

  get timers (): number {
    return this.pending.size
  }

  advance (ms: number): void {
    const end = this.time + ms
    for (;;) {
      const next = [...this.pending.entries()].filter(([, timer]) => timer.at <= end).sort(([, a], [, b]) => a.at - b.at || a.order - b.order)[0]
      if (next === undefined) break
      this.pending.delete(next[0])
      this.time = next[1].at
      next[1].callback()
    }
    this.time = end
  }
}
