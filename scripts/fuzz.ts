/**
 * Coverage-guided fuzzing of the parsers of input from outside (.torrent files, tracker requests, the
 * peer-wire framing, Range headers, the config file), for minutes at a time; not part of `npm test`.
 * The feedback is V8's own block coverage (scripts/fuzz-coverage.ts): Jazzer.js, the usual tool,
 * needs a newer glibc than Debian bookworm's or a download from outside the npm registry, and jsfuzz
 * cannot see ES modules. A finding (an error other than the parser's own refusal, a broken invariant,
 * an input that hangs, runs slow or exhausts memory) is saved and printed, and the exit code is 1.
 *
 * Usage: node dist/scripts/fuzz.js --target torrent --seconds 300
 */
import { createHash } from 'node:crypto'
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { Worker } from 'node:worker_threads'
import type { FindingKind, WorkerInput, WorkerMessage } from './fuzz-worker.js'

const TARGET_NAMES = ['torrent', 'bencode', 'announce', 'scrape', 'udp', 'framer', 'mse', 'range', 'config']

const USAGE = `Usage: node dist/scripts/fuzz.js --target NAME [options]

Targets: ${TARGET_NAMES.join(', ')}, or all (one after the other)

Options:
  --target NAME     what to fuzz
  --seconds N       how long, per target (default: 60)
  --seed N          seed of the mutations (default: from the clock; printed, to repeat a run)
  --dir DIR         keeps DIR/<target>/corpus (reused by the next run) and DIR/<target>/crashes
                    (default: ${join(tmpdir(), 'evertorrent-fuzz')})
  --timeout N       seconds one input may run before it counts as a hang (default: 10)
  --repro FILE      run the target once on FILE (a saved crash) and show what it throws
  -h, --help        this help`

const KEEP_PROGRESS_SECONDS = 10
/** The heap a worker may use: a parser that allocates past it is a finding, not a dead machine. */
const WORKER_HEAP_MB = 1024
const MAX_INPUT_BYTES = 64 * 1024

interface Options {
  readonly seconds: number
  readonly seed: number
  readonly dir: string
  readonly timeout: number
}

interface Outcome {
  readonly findings: number
}

async function main (): Promise<number> {
  const { values } = parseArgs({
    options: {
      target: { type: 'string' },
      seconds: { type: 'string', default: '60' },
      seed: { type: 'string' },
      dir: { type: 'string', default: join(tmpdir(), 'evertorrent-fuzz') },
      timeout: { type: 'string', default: '10' },
      repro: { type: 'string' },
      help: { type: 'boolean', short: 'h' }
    }
  })
  if (values.help === true) {
    process.stdout.write(`${USAGE}\n`)
    return 0
  }
  const names = values.target === 'all' ? TARGET_NAMES : [values.target ?? '']
  if (!names.every((name) => TARGET_NAMES.includes(name))) {
    process.stderr.write(`${USAGE}\n`)
    return 2
  }
  if (values.repro !== undefined) {
    if (names.length !== 1) {
      process.stderr.write(`--repro needs one target\n${USAGE}\n`)
      return 2
    }
    return await repro(names[0]!, values.repro)
  }
  const options = {
    seconds: Number(values.seconds),
    seed: values.seed === undefined ? Date.now() % 2 ** 31 : Number(values.seed),
    dir: values.dir,
    timeout: Number(values.timeout)
  }
  if (![options.seconds, options.seed, options.timeout].every((number) => Number.isSafeInteger(number) && number >= 0)) {
    process.stderr.write(`--seconds, --seed and --timeout take whole numbers\n${USAGE}\n`)
    return 2
  }
  let findings = 0
  for (const [index, name] of names.entries()) findings += (await fuzz(name, { ...options, seed: options.seed + index })).findings
  return findings === 0 ? 0 : 1
}

async function repro (name: string, file: string): Promise<number> {
  const { TARGETS } = await import('./fuzz-targets.js')
  const target = TARGETS[name]!
  try {
    target.run(readFileSync(file))
    process.stdout.write('accepted\n')
    return 0
  } catch (error) {
    if (!target.isRefusal(error)) throw error
    process.stdout.write(`refused: ${(error as { code: string }).code}: ${(error as Error).message}\n`)
    return 0
  }
}

async function fuzz (name: string, options: Options): Promise<Outcome> {
  const corpusDir = join(options.dir, name, 'corpus')
  const crashDir = join(options.dir, name, 'crashes')
  mkdirSync(corpusDir, { recursive: true })
  mkdirSync(crashDir, { recursive: true })
  const saved = readdirSync(corpusDir).map((file) => readFileSync(join(corpusDir, file)))
  process.stdout.write(`${name}: seed ${options.seed}, ${options.seconds} s, ${saved.length} saved corpus entries in ${corpusDir}\n`)
  const current = new SharedArrayBuffer(4 + MAX_INPUT_BYTES)
  const workerData: WorkerInput = { target: name, seconds: options.seconds, seed: options.seed, corpus: saved, current }
  const worker = new Worker(new URL('./fuzz-worker.js', import.meta.url), { workerData, resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB } })
  const started = Date.now()
  let findings = 0
  let lastMessage = Date.now()
  let lastProgress = Date.now()
  let seededBlocks = 0

  const save = (kind: FindingKind | 'hang' | 'out-of-memory', input: Uint8Array, report: string): void => {
    findings += 1
    const file = join(crashDir, `${kind}-${createHash('sha1').update(input).digest('hex').slice(0, 12)}`)
    writeFileSync(file, input)
    writeFileSync(`${file}.txt`, `${report}\n`)
    process.stdout.write(`${name}: ${kind.toUpperCase()} saved to ${file}\n${indent(report)}\n  repeat: node dist/scripts/fuzz.js --target ${name} --repro ${file}\n`)
  }
  const currentInput = (): Uint8Array => new Uint8Array(current, 4, new Int32Array(current, 0, 1)[0]).slice()

  await new Promise<void>((resolve) => {
    const watchdog = setInterval(() => {
      if (Date.now() - lastMessage < options.timeout * 1000) return
      clearInterval(watchdog)
      save('hang', currentInput(), `no progress for ${options.timeout} s on this input`)
      void worker.terminate().then(() => resolve())
    }, 1000)
    worker.on('message', (message: WorkerMessage) => {
      lastMessage = Date.now()
      switch (message.type) {
        case 'seeded':
          seededBlocks = message.blocks
          process.stdout.write(`${name}: the seeds and saved corpus cover ${message.blocks} blocks with ${message.corpus} inputs\n`)
          break
        case 'corpus':
          writeFileSync(join(corpusDir, createHash('sha1').update(message.input).digest('hex')), message.input)
          break
        case 'finding':
          save(message.kind, message.input, message.report)
          break
        case 'stats':
          if (Date.now() - lastProgress < KEEP_PROGRESS_SECONDS * 1000) break
          lastProgress = Date.now()
          process.stdout.write(`${name}: ${Math.round((Date.now() - started) / 1000)} s, ${message.execs} execs (${rate(message.execs, started)}/s), ${message.blocks} blocks covered, corpus ${message.corpus}, findings ${findings}\n`)
          break
        case 'done':
          clearInterval(watchdog)
          process.stdout.write(`${name}: done: ${message.execs} execs in ${Math.round((Date.now() - started) / 1000)} s (${rate(message.execs, started)}/s), blocks covered ${seededBlocks} by the seeds, ${message.blocks} at the end, corpus ${message.corpus}, findings ${findings}\n`)
          // Every target's modules are loaded; those whose functions this target never called are left out.
          for (const [url, file] of Object.entries(message.files).filter(([, file]) => file.covered > 1).sort(([, a], [, b]) => b.covered - a.covered)) {
            process.stdout.write(`  ${relative(process.cwd(), fileURLToPath(url))}: ${file.covered} of the ${file.known} blocks seen\n`)
          }
          break
      }
    })
    worker.on('error', (error) => {
      clearInterval(watchdog)
      const kind = (error as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'out-of-memory' : 'crash'
      save(kind, currentInput(), error.stack ?? String(error))
    })
    worker.on('exit', () => {
      clearInterval(watchdog)
      resolve()
    })
  })
  return { findings }
}

function rate (execs: number, started: number): number {
  return Math.round(execs / Math.max(0.001, (Date.now() - started) / 1000))
}

function indent (text: string): string {
  return text.split('\n').slice(0, 12).map((line) => `  ${line}`).join('\n')
}

process.exitCode = await main()
