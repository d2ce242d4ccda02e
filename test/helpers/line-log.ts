import type { Readable } from 'node:stream'

/** Calls `onLine` with every complete line `stream` writes (UTF-8, without its newline). */
export function onLines (stream: Readable, onLine: (line: string) => void): void {
  let pending = ''
  stream.setEncoding('utf8').on('data', (chunk: string) => {
    pending += chunk
    const lines = pending.split('\n')
    pending = lines.pop()!
    for (const line of lines) onLine(line)
  })
}

/** A parsed line, and when it arrived (`performance.now()`). */
export interface Timed<T> {
  readonly at: number
  readonly value: T
}

/**
 * What a child process writes on one stream, a line at a time: parsed (a line `parse` turns down is
 * dropped), kept in order with the time each one arrived, and waited for. The one way the tests and
 * the scripts wait for what a process reports.
 */
export class LineLog<T> {
  readonly entries: Array<Timed<T>> = []
  private readonly waiters = new Set<() => void>()
  private ended = false

  /** `describe`: what a failed wait adds to its message (the last lines, the child's stderr). */
  constructor (stream: Readable, parse: (line: string) => T | undefined, private readonly describe: () => string) {
    onLines(stream, (line) => {
      const value = parse(line)
      if (value === undefined) return
      this.entries.push({ at: performance.now(), value })
      this.wake()
    })
    const end = (): void => {
      this.ended = true
      this.wake()
    }
    stream.once('end', end)
    stream.once('close', end)
  }

  get values (): T[] {
    return this.entries.map((entry) => entry.value)
  }

  /**
   * The first `count` entries from index `from` on that match, once there are that many. Rejects,
   * saying `what` it waited for, when the stream ends first or `timeoutMs` passes.
   */
  async waitForCount (match: (value: T) => boolean, count: number, timeoutMs: number, what: string, from = 0): Promise<Array<Timed<T>>> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const found = this.entries.slice(from).filter((entry) => match(entry.value))
      if (found.length >= count) return found.slice(0, count)
      if (this.ended) throw new Error(`the process ended while waiting for ${what} (saw ${found.length} of ${count}):\n${this.describe()}`)
      const remaining = deadline - Date.now()
      if (remaining <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (saw ${found.length} of ${count}):\n${this.describe()}`)
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          clearTimeout(timer)
          this.waiters.delete(wake)
          resolve()
        }
        const timer = setTimeout(wake, remaining)
        this.waiters.add(wake)
      })
    }
  }

  /** The first entry from index `from` on that matches (see `waitForCount`). */
  async waitFor (match: (value: T) => boolean, timeoutMs: number, what: string, from = 0): Promise<Timed<T>> {
    const [entry] = await this.waitForCount(match, 1, timeoutMs, what, from)
    return entry!
  }

  private wake (): void {
    for (const wake of this.waiters) wake()
  }
}
