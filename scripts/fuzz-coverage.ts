import { Session } from 'node:inspector'

/**
 * V8's precise block coverage, read through the inspector of this thread, as the fuzzer's feedback:
 * which blocks of the code under test the inputs run since the last look. Only functions compiled
 * after `start()` are instrumented for blocks, so the code under test must be imported after it.
 *
 * V8 reports a block only where its count differs from the block around it (an executed block
 * inside an executed function is left out), so a block is counted as covered when the innermost
 * range reported around it ran; every range V8 has ever reported is remembered as a block.
 */
export class BlockCoverage {
  private readonly session = new Session()
  /** Per function (`url start end`), the block ranges seen in it, each as `start end`. */
  private readonly blocks = new Map<string, Map<string, { start: number, end: number }>>()
  /** The blocks covered by any input so far, as `url start end`. */
  readonly covered = new Set<string>()

  constructor (private readonly counts: (url: string) => boolean) {}

  start (): void {
    this.session.connect()
    this.post('Profiler.enable')
    // With counts: in binary mode (callCount: false) V8 reports a function as run only the first time,
    // so later inputs that take its other branches would go unseen.
    this.post('Profiler.startPreciseCoverage', { callCount: true, detailed: true })
  }

  /** The blocks run since the last call that no input had run before; adds them to `covered` if `keep`. */
  take (keep: boolean): string[] {
    const found: string[] = []
    const result = this.post('Profiler.takePreciseCoverage') as { result: ScriptCoverage[] }
    for (const script of result.result) {
      if (!this.counts(script.url)) continue
      for (const fn of script.functions) {
        for (const block of this.blocksOf(script.url, fn)) {
          const key = `${script.url} ${block.start} ${block.end}`
          if (!this.covered.has(key) && innermostCount(fn.ranges, block) > 0) found.push(key)
        }
      }
    }
    if (keep) for (const key of found) this.covered.add(key)
    return found
  }

  /** Covered and known blocks per file. */
  summary (): Map<string, { covered: number, known: number }> {
    const files = new Map<string, { covered: number, known: number }>()
    for (const [fn, blocks] of this.blocks) {
      const url = fn.slice(0, fn.indexOf(' '))
      const file = files.get(url) ?? { covered: 0, known: 0 }
      file.known += blocks.size
      for (const block of blocks.values()) if (this.covered.has(`${url} ${block.start} ${block.end}`)) file.covered += 1
      files.set(url, file)
    }
    return files
  }

  close (): void {
    this.session.disconnect()
  }

  private blocksOf (url: string, fn: FunctionCoverage): Iterable<{ start: number, end: number }> {
    const head = fn.ranges[0]!
    const key = `${url} ${head.startOffset} ${head.endOffset}`
    let blocks = this.blocks.get(key)
    if (blocks === undefined) this.blocks.set(key, blocks = new Map())
    for (const range of fn.ranges) {
      const id = `${range.startOffset} ${range.endOffset}`
      if (!blocks.has(id)) blocks.set(id, { start: range.startOffset, end: range.endOffset })
    }
    return blocks.values()
  }

  /** The inspector answers a session of the same thread synchronously. */
  private post (method: string, params?: object): unknown {
    let answer: unknown
    let failure: Error | null = null
    this.session.post(method, params, (error, result) => {
      failure = error
      answer = result
    })
    if (failure !== null) throw failure
    return answer
  }
}

interface CoverageRange { readonly startOffset: number, readonly endOffset: number, readonly count: number }
interface FunctionCoverage { readonly ranges: readonly CoverageRange[] }
interface ScriptCoverage { readonly url: string, readonly functions: readonly FunctionCoverage[] }

/** V8 lists a function's ranges outermost first, nested ones after the range holding them. */
function innermostCount (ranges: readonly CoverageRange[], block: { start: number, end: number }): number {
  let count = 0
  for (const range of ranges) {
    if (range.startOffset <= block.start && block.end <= range.endOffset) count = range.count
  }
  return count
}
