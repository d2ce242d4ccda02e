import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks'

/**
 * How often the loop is probed. A finer probe sees shorter stalls but wakes the CPU more often; 20 ms
 * is 50 wake-ups a second, nothing next to a Pi's idle load, and still far below the stalls that
 * matter (a client times out after seconds, the watchdog after 30 s).
 */
export const EVENT_LOOP_PROBE_MS = 20

/** Event-loop delay over one window, in seconds. */
export interface EventLoopDelaySample {
  readonly p99Seconds: number
  readonly maxSeconds: number
}

/**
 * The event loop's delay as `perf_hooks.monitorEventLoopDelay` measures it: how late a timer fires
 * because JavaScript (or a synchronous call) held the thread. Each `sample()` covers the time since
 * the previous one, so a stall shows once, in the window it happened in.
 */
export class EventLoopDelay {
  private readonly histogram: IntervalHistogram
  private readonly probeNs: number

  constructor (probeMs = EVENT_LOOP_PROBE_MS) {
    this.histogram = monitorEventLoopDelay({ resolution: probeMs })
    this.probeNs = probeMs * 1e6
  }

  start (): void {
    this.histogram.enable()
  }

  /** The delay since the last sample (or the start), then starts a new window. */
  sample (): EventLoopDelaySample {
    // The histogram records the time between two probes, the probe's own interval included: the
    // delay is what exceeds it. An empty window (no probe fired yet) reads as no delay.
    const delay = (ns: number): number => this.histogram.count === 0 ? 0 : Math.max(0, ns - this.probeNs) / 1e9
    const result = { p99Seconds: delay(this.histogram.percentile(99)), maxSeconds: delay(this.histogram.max) }
    this.histogram.reset()
    return result
  }

  async close (): Promise<void> {
    this.histogram.disable()
  }
}
