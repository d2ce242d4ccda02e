/**
 * Latencies in microseconds, counted in buckets of 10 µs below 1 ms and of three significant digits
 * above (within 1 %), so that generator processes can send theirs as a few hundred numbers and the
 * parent can merge them.
 */
export class LatencyHistogram {
  private readonly counts = new Map<number, number>()
  private total = 0

  static fromJSON (json: Readonly<Record<string, number>>): LatencyHistogram {
    const histogram = new LatencyHistogram()
    for (const [bucket, count] of Object.entries(json)) histogram.add(Number(bucket), count)
    return histogram
  }

  get count (): number {
    return this.total
  }

  record (us: number): void {
    this.add(bucketOf(us), 1)
  }

  merge (other: LatencyHistogram): void {
    for (const [bucket, count] of other.counts) this.add(bucket, count)
  }

  /** The bucket (its lower bound, µs) the `p`th percentile falls in; NaN when empty. */
  percentile (p: number): number {
    if (this.total === 0) return Number.NaN
    const rank = Math.max(1, Math.ceil(p / 100 * this.total))
    let seen = 0
    for (const bucket of [...this.counts.keys()].sort((a, b) => a - b)) {
      seen += this.counts.get(bucket)!
      if (seen >= rank) return bucket
    }
    return Number.NaN
  }

  get max (): number {
    return this.total === 0 ? Number.NaN : Math.max(...this.counts.keys())
  }

  /**
   * wrk's coordinated-omission correction (its stats_correct): a closed-loop client that waited `n`
   * for an answer did not send the requests it would have sent meanwhile, one every `expectedUs` (the
   * mean time between a connection's requests); each is counted as if sent on time and answered with
   * the first one, at n − expectedUs, n − 2·expectedUs, … while above expectedUs. Returns a new histogram.
   */
  correctedForOmission (expectedUs: number): LatencyHistogram {
    const corrected = LatencyHistogram.fromJSON(this.toJSON())
    if (!(expectedUs > 0)) return corrected
    for (const [bucket, count] of this.counts) {
      if (bucket < 2 * expectedUs) continue
      for (let missed = bucket - expectedUs; missed > expectedUs; missed -= expectedUs) corrected.add(bucketOf(missed), count)
    }
    return corrected
  }

  toJSON (): Record<string, number> {
    return Object.fromEntries(this.counts)
  }

  private add (bucket: number, count: number): void {
    this.counts.set(bucket, (this.counts.get(bucket) ?? 0) + count)
    this.total += count
  }
}

export function bucketOf (us: number): number {
  const value = Math.max(0, us)
  const step = value < 1000 ? 10 : 10 ** (Math.floor(Math.log10(value)) - 2)
  return Math.floor(value / step) * step
}
