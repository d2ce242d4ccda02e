/**
 * What the load did, as named counts (`http.ok`, `download.done`, …) that every load generator adds
 * to, and what went wrong: failures fail the soak, notes are reported.
 */
export class Counters {
  private readonly values = new Map<string, number>()

  add (name: string, by = 1): void {
    this.values.set(name, (this.values.get(name) ?? 0) + by)
  }

  get (name: string): number {
    return this.values.get(name) ?? 0
  }

  snapshot (): Readonly<Record<string, number>> {
    return Object.fromEntries(this.values)
  }
}

/** Kept to this many of each, so an hour of one repeated problem stays readable; all are counted. */
const MAX_KEPT = 20

export class Findings {
  readonly failures: string[] = []
  readonly notes: string[] = []
  failureCount = 0
  noteCount = 0

  /** Something the soak fails on. */
  fail (reason: string): void {
    if (this.failureCount++ < MAX_KEPT) this.failures.push(reason)
  }

  /** Worth reporting, not a failure (e.g. a download that stalled while the drive was out). */
  note (text: string): void {
    if (this.noteCount++ < MAX_KEPT) this.notes.push(text)
  }
}
