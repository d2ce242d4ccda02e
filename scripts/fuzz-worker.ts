/**
 * The fuzzing loop of scripts/fuzz.ts, in a worker thread so that the main thread can stop an input
 * that hangs: it mutates corpus entries, runs them on the target, and keeps those that reach blocks
 * no input reached before. Coverage is taken once per batch (taking it costs about 1 ms, an execution
 * a few µs); only a batch that found something is run again input by input to see which did.
 */
import { inspect } from 'node:util'
import { parentPort, workerData } from 'node:worker_threads'
import { BlockCoverage } from './fuzz-coverage.js'
import { Mutator, Random } from './fuzz-mutator.js'

export interface WorkerInput {
  readonly target: string
  readonly seconds: number
  readonly seed: number
  readonly corpus: readonly Uint8Array[]
  /** Int32 length, then the bytes of the input being run: what the main thread saves on a hang. */
  readonly current: SharedArrayBuffer
}

export type FindingKind = 'crash' | 'slow'

export type WorkerMessage =
  | { readonly type: 'seeded', readonly blocks: number, readonly corpus: number }
  | { readonly type: 'corpus', readonly input: Uint8Array }
  | { readonly type: 'finding', readonly kind: FindingKind, readonly signature: string, readonly input: Uint8Array, readonly report: string }
  | { readonly type: 'stats', readonly execs: number, readonly blocks: number, readonly corpus: number }
  | { readonly type: 'done', readonly execs: number, readonly blocks: number, readonly corpus: number, readonly files: Record<string, { covered: number, known: number }> }

const BATCH = 256
/** An input that takes longer than this, and again on each of 3 more runs, is a finding: these parsers take microseconds. */
const SLOW_MS = 100

const input = workerData as WorkerInput
const post = (message: WorkerMessage): void => parentPort!.postMessage(message)
const currentLength = new Int32Array(input.current, 0, 1)
const currentBytes = new Uint8Array(input.current, 4)

const coverage = new BlockCoverage((url) => url.startsWith('file:') && !url.includes('/dist/scripts/'))
coverage.start()
const { TARGETS } = await import('./fuzz-targets.js')
const target = TARGETS[input.target]!
const random = new Random(input.seed)
const mutator = new Mutator(random, target.tokens, target.maxLength)
const signatures = new Set<string>()
let execs = 0

function execute (data: Buffer): void {
  currentBytes.set(data.subarray(0, currentBytes.length))
  currentLength[0] = Math.min(data.length, currentBytes.length)
  const started = performance.now()
  try {
    target.run(data)
  } catch (error) {
    if (!target.isRefusal(error)) found('crash', data, error)
  }
  execs++
  const took = performance.now() - started
  if (took > SLOW_MS && fastest(data) > SLOW_MS) found('slow', data, new Error(`took ${Math.round(took)} ms, and at least ${SLOW_MS} ms in each of 3 runs more`))
}

/** The fastest of three more runs: on a busy machine one run can lose the CPU for longer than SLOW_MS. */
function fastest (data: Buffer): number {
  let best = Infinity
  for (let run = 0; run < 3; run++) {
    const started = performance.now()
    try {
      target.run(data)
    } catch {}
    best = Math.min(best, performance.now() - started)
  }
  return best
}

/** One report per kind of failure: its name, message (numbers masked) and where it was thrown. */
function found (kind: FindingKind, data: Buffer, error: unknown): void {
  const stack = error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : `thrown: ${String(error)}`
  const report = error instanceof Error && error.cause !== undefined ? `${stack}\ncause: ${inspect(error.cause)}` : stack
  const frame = report.split('\n').find((line) => line.trimStart().startsWith('at ')) ?? ''
  const message = error instanceof Error ? `${error.name}: ${error.message}` : report
  const signature = kind === 'slow' ? 'slow' : `${message.replace(/\d+/g, 'N').slice(0, 120)} ${frame.trim()}`
  if (signatures.has(signature)) return
  signatures.add(signature)
  post({ type: 'finding', kind, signature, input: Uint8Array.from(data), report })
}

const corpus: Buffer[] = []
const seeds = target.seeds()
for (const [index, data] of [...seeds, ...input.corpus.map((bytes) => Buffer.from(bytes))].entries()) {
  execute(data)
  if (coverage.take(true).length === 0 && corpus.length > 0) continue
  corpus.push(data)
  if (index < seeds.length) post({ type: 'corpus', input: Uint8Array.from(data) })
}
post({ type: 'seeded', blocks: coverage.covered.size, corpus: corpus.length })

const deadline = Date.now() + input.seconds * 1000
let lastStats = Date.now()
const other = (): Buffer => random.pick(corpus)
while (Date.now() < deadline) {
  const batch: Buffer[] = []
  for (let index = 0; index < BATCH; index++) {
    const mutant = mutator.mutate(random.pick(corpus), other)
    execute(mutant)
    batch.push(mutant)
  }
  if (coverage.take(false).length > 0) {
    for (const mutant of batch) {
      execute(mutant)
      if (coverage.take(true).length === 0) continue
      corpus.push(mutant)
      post({ type: 'corpus', input: Uint8Array.from(mutant) })
    }
  }
  if (Date.now() - lastStats >= 1000) {
    lastStats = Date.now()
    post({ type: 'stats', execs, blocks: coverage.covered.size, corpus: corpus.length })
  }
}
const files = Object.fromEntries(coverage.summary())
coverage.close()
post({ type: 'done', execs, blocks: coverage.covered.size, corpus: corpus.length, files })
