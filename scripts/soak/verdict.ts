/**
 * The soak's rule for "grows without bound", as a pure function of the samples.
 *
 * After a warm-up (at least the first 10 % of the run: content published, caches and pools filled,
 * V8's heap sized; and until each kind of hostile burst that holds connections has run once, since
 * the memory a burst takes is kept by malloc and V8 for the next one: a plateau, not growth), a series is judged on its quiet samples only (none taken while a hostile burst held
 * thousands of connections: those peaks are judged against the unit's MemoryMax, not as growth).
 * In time order, the judged samples are cut in quarters and halves by count:
 *
 * - slope: the least-squares slope over the second half, per hour (is it still growing at the end?),
 * - rise: the median of the last quarter minus the median of the first quarter (did it grow by a
 *   material amount, not by noise?).
 *
 * It grows without bound when both exceed their limit. Either alone is noise: the slope of a few
 * minutes extrapolated to an hour swings widely, and a rise can be a cache that filled once. Any
 * sample above the unit's MemoryMax fails too, burst or not.
 */

export interface SoakSample {
  /** Seconds since the load started. */
  readonly atSeconds: number
  readonly rssBytes: number
  readonly fds: number
  /** No hostile burst was holding connections when it was taken. */
  readonly quiet: boolean
}

export interface GrowthLimits {
  /** Per hour, over the second half. */
  readonly slopePerHour: number
  /** Last-quarter median above the first-quarter median. */
  readonly rise: number
}

export interface VerdictOptions {
  /** Samples before this are not judged for growth (see `warmUpSeconds`). */
  readonly warmUpSeconds: number
  /** The unit's MemoryMax=, in bytes; undefined when it sets none. */
  readonly memoryMaxBytes: number | undefined
  readonly rss: GrowthLimits
  readonly fds: GrowthLimits
  /** Fewer judged samples than this: growth is not judged (said so), the other checks still are. */
  readonly minSamples: number
}

const MB = 1e6

/**
 * A leak of 20 MB an hour fills a Pi Zero 2 W's 288 MB budget in about ten hours; a healthy service
 * moves by a few MB (V8's heap settling, malloc's arena). Any fd that is not given back is a leak,
 * but peers and downloads come and go: 25 fds of rise and 50 an hour of slope sit above that noise.
 */
export const DEFAULT_VERDICT: Omit<VerdictOptions, 'warmUpSeconds' | 'memoryMaxBytes'> = {
  rss: { slopePerHour: 20 * MB, rise: 10 * MB },
  fds: { slopePerHour: 50, rise: 25 },
  minSamples: 8
}

/** The first 10 % of the run, or longer: until `settledAt` (seconds), when the first bursts that hold connections are over. */
export function warmUpSeconds (runSeconds: number, settledAt = 0): number {
  return Math.max(runSeconds * 0.1, settledAt)
}

export interface SeriesFigures {
  readonly samples: number
  readonly firstQuarterMedian: number
  readonly lastQuarterMedian: number
  readonly rise: number
  readonly slopePerHour: number
  readonly peak: number
  readonly grows: boolean
}

export interface Verdict {
  readonly failures: readonly string[]
  /** Undefined when too few samples were judged. */
  readonly rss: SeriesFigures | undefined
  readonly fds: SeriesFigures | undefined
  readonly peakRssBytes: number
  readonly peakFds: number
  readonly notes: readonly string[]
}

export function judgeSamples (samples: readonly SoakSample[], options: VerdictOptions): Verdict {
  const failures: string[] = []
  const notes: string[] = []
  const peakRssBytes = Math.max(0, ...samples.map((sample) => sample.rssBytes))
  const peakFds = Math.max(0, ...samples.map((sample) => sample.fds))
  if (options.memoryMaxBytes !== undefined) {
    const over = samples.filter((sample) => sample.rssBytes > options.memoryMaxBytes!)
    if (over.length > 0) {
      failures.push(`RSS above the unit's MemoryMax (${mb(options.memoryMaxBytes)} MB) in ${over.length} sample(s), highest ${mb(peakRssBytes)} MB at ${over[0]!.atSeconds.toFixed(0)} s`)
    }
  }
  const judged = samples.filter((sample) => sample.quiet && sample.atSeconds >= options.warmUpSeconds)
  if (judged.length < options.minSamples) {
    notes.push(`growth not judged: ${judged.length} quiet samples after the warm-up (${options.warmUpSeconds.toFixed(0)} s), ${options.minSamples} needed`)
    return { failures, rss: undefined, fds: undefined, peakRssBytes, peakFds, notes }
  }
  const inOrder = [...judged].sort((a, b) => a.atSeconds - b.atSeconds)
  const rss = judgeSeries(inOrder, (sample) => sample.rssBytes, options.rss)
  const fds = judgeSeries(inOrder, (sample) => sample.fds, options.fds)
  if (rss.grows) {
    failures.push(`RSS grows without bound: +${mb(rss.slopePerHour)} MB/hour over the second half (limit ${mb(options.rss.slopePerHour)}), ` +
      `last-quarter median ${mb(rss.lastQuarterMedian)} MB vs first-quarter ${mb(rss.firstQuarterMedian)} MB (+${mb(rss.rise)}, limit ${mb(options.rss.rise)})`)
  }
  if (fds.grows) {
    failures.push(`open fds grow without bound: +${fds.slopePerHour.toFixed(0)}/hour over the second half (limit ${options.fds.slopePerHour}), ` +
      `last-quarter median ${fds.lastQuarterMedian} vs first-quarter ${fds.firstQuarterMedian} (+${fds.rise}, limit ${options.fds.rise})`)
  }
  return { failures, rss, fds, peakRssBytes, peakFds, notes }
}

/** `samples` in time order, at least `minSamples` of them. */
function judgeSeries (samples: readonly SoakSample[], value: (sample: SoakSample) => number, limits: GrowthLimits): SeriesFigures {
  const quarter = Math.max(1, Math.floor(samples.length / 4))
  const firstQuarterMedian = median(samples.slice(0, quarter).map(value))
  const lastQuarterMedian = median(samples.slice(-quarter).map(value))
  const secondHalf = samples.slice(Math.floor(samples.length / 2))
  const rise = lastQuarterMedian - firstQuarterMedian
  const slopePerHour = leastSquaresSlope(secondHalf.map((sample) => [sample.atSeconds, value(sample)])) * 3600
  return {
    samples: samples.length,
    firstQuarterMedian,
    lastQuarterMedian,
    rise,
    slopePerHour,
    peak: Math.max(...samples.map(value)),
    grows: slopePerHour > limits.slopePerHour && rise > limits.rise
  }
}

export function median (values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

/** Units of y per unit of x; 0 for fewer than two distinct x. */
export function leastSquaresSlope (points: ReadonlyArray<readonly [number, number]>): number {
  const n = points.length
  if (n < 2) return 0
  const meanX = points.reduce((sum, [x]) => sum + x, 0) / n
  const meanY = points.reduce((sum, [, y]) => sum + y, 0) / n
  let covariance = 0
  let variance = 0
  for (const [x, y] of points) {
    covariance += (x - meanX) * (y - meanY)
    variance += (x - meanX) ** 2
  }
  return variance === 0 ? 0 : covariance / variance
}

function mb (bytes: number): string {
  return (bytes / MB).toFixed(1)
}
