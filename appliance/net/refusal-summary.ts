export interface RefusalReport {
  /** Connections refused since the previous report. */
  readonly refused: number
  /** The address of the last of them, and why it was refused. */
  readonly address: string
  readonly reason: string
}

/**
 * Folds refused connections into a report at most every `intervalMs`, so that a flood of connections
 * does not become a flood of log lines too. The first refusal after a quiet interval is reported at
 * once; those that follow within the interval are counted and reported at its end.
 */
export class RefusalSummary {
  private pending = 0
  private last: { address: string, reason: string } | undefined
  private timer: NodeJS.Timeout | undefined

  constructor (private readonly report: (report: RefusalReport) => void, private readonly intervalMs = 60_000) {}

  add (address: string, reason: string): void {
    this.last = { address, reason }
    if (this.timer !== undefined) {
      this.pending++
      return
    }
    this.report({ refused: 1, address, reason })
    this.timer = setInterval(() => { this.flush() }, this.intervalMs).unref()
  }

  close (): void {
    clearInterval(this.timer)
    this.timer = undefined
  }

  private flush (): void {
    if (this.pending === 0 || this.last === undefined) {
      this.close()
      return
    }
    this.report({ refused: this.pending, ...this.last })
    this.pending = 0
  }
}
