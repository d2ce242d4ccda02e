/** An opaque handle from `Clock.setTimeout`. */
export type TimerHandle = object

/** Time and timers, injected so tests can move time by hand. */
export interface Clock {
  now: () => number
  setTimeout: (callback: () => void, ms: number) => TimerHandle
  clearTimeout: (timer: TimerHandle | undefined) => void
}

/** The real clock; its timers never keep the process alive on their own. */
export const systemClock: Clock = {
  now: Date.now,
  setTimeout: (callback, ms) => setTimeout(callback, ms).unref(),
  clearTimeout: (timer) => { clearTimeout(timer as NodeJS.Timeout | undefined) }
}
