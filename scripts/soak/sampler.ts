/**
 * Every 10 s: the service's RSS (VmRSS) and open fds from /proc, its CPU use since the last sample,
 * its event-loop delay from /metrics (p99 and max since the previous scrape, which is this one's),
 * the items by state and everything the load has counted so far.
 */
import { readdirSync } from 'node:fs'
import { cpuSecondsOf, memoryOf } from '../../test/helpers/proc.js'
import type { BoxStatus } from './box-status.js'
import type { Counters } from './counters.js'
import type { Hostile } from './hostile.js'
import { paced } from './pace.js'
import type { SoakSample } from './verdict.js'

const SAMPLE_MS = 10_000
/** After a burst ends the service needs a moment to let go of it; samples meanwhile are not quiet. */
export const SETTLE_AFTER_BURST_MS = 5000

export interface Sample extends SoakSample {
  /** Of one core, since the previous sample. */
  readonly cpuPercent: number
  /** Undefined when /metrics did not answer or has no such gauge. */
  readonly loopP99Ms: number | undefined
  readonly loopMaxMs: number | undefined
  readonly items: Readonly<Record<string, number>>
  readonly counters: Readonly<Record<string, number>>
  /** The hostile burst under way, if any. */
  readonly burst: string | undefined
  readonly drive: 'in' | 'out' | 'none'
}

export interface SamplerOptions {
  readonly pid: number
  readonly httpPort: number
  readonly box: BoxStatus
  readonly counters: Counters
  readonly hostile: Hostile
  readonly drive: () => 'in' | 'out' | 'none'
  /** performance.now() when the load started: samples are timed from it. */
  readonly startedAt: number
  readonly onSample: (sample: Sample) => void
}

export class Sampler {
  readonly samples: Sample[] = []
  private readonly abort = new AbortController()
  private loop: Promise<void> = Promise.resolve()
  private lastCpu: { at: number, seconds: number } | undefined

  constructor (private readonly options: SamplerOptions) {}

  start (): void {
    this.lastCpu = { at: performance.now(), seconds: cpuSecondsOf(this.options.pid) }
    this.loop = paced(this.abort.signal, SAMPLE_MS, async () => { await this.sample() }, () => {})
  }

  async stop (): Promise<void> {
    this.abort.abort()
    await this.loop
  }

  /** Takes one sample now (also used for the last one, after the load stopped); undefined once the process is gone. */
  async sample (): Promise<Sample | undefined> {
    const { pid, hostile } = this.options
    const now = performance.now()
    let rssBytes: number
    let fds: number
    let cpuSeconds: number
    try {
      rssBytes = memoryOf(pid).rssBytes
      fds = readdirSync(`/proc/${pid}/fd`).length
      cpuSeconds = cpuSecondsOf(pid)
    } catch {
      return undefined
    }
    const cpuPercent = this.lastCpu === undefined ? 0 : 100 * (cpuSeconds - this.lastCpu.seconds) / ((now - this.lastCpu.at) / 1000)
    this.lastCpu = { at: now, seconds: cpuSeconds }
    const loop = await this.eventLoopDelay()
    const sample: Sample = {
      atSeconds: (now - this.options.startedAt) / 1000,
      rssBytes,
      fds,
      quiet: !hostile.holding(SETTLE_AFTER_BURST_MS),
      cpuPercent,
      loopP99Ms: loop?.p99Ms,
      loopMaxMs: loop?.maxMs,
      items: this.options.box.countByState(),
      counters: this.options.counters.snapshot(),
      burst: hostile.active,
      drive: this.options.drive()
    }
    this.samples.push(sample)
    this.options.onSample(sample)
    return sample
  }

  private async eventLoopDelay (): Promise<{ p99Ms: number, maxMs: number } | undefined> {
    try {
      const response = await fetch(`http://127.0.0.1:${this.options.httpPort}/metrics`, { signal: AbortSignal.timeout(5000) })
      const text = await response.text()
      const p99 = /^evertorrent_event_loop_delay_seconds\{quantile="0\.99"\} (\S+)$/m.exec(text)?.[1]
      const max = /^evertorrent_event_loop_delay_max_seconds (\S+)$/m.exec(text)?.[1]
      if (p99 === undefined || max === undefined) return undefined
      return { p99Ms: Number(p99) * 1000, maxMs: Number(max) * 1000 }
    } catch {
      this.options.counters.add('metrics.unanswered')
      return undefined
    }
  }
}
