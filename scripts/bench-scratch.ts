import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { killAllChildren } from '../test/helpers/child-process.js'

export interface BenchScratch {
  /** A fresh folder in the temp folder. */
  readonly work: string
  /** Stops every child process the benchmark started and removes the folders. */
  readonly cleanUp: () => void
}

/**
 * A benchmark's scratch folder, and the other folders it makes from it (`others`): removed, with
 * every child process stopped, by `cleanUp` or when the benchmark is interrupted (SIGINT, SIGTERM).
 */
export function benchScratch (name: string, progress: (message: string) => void, others: (work: string) => readonly string[] = () => []): BenchScratch {
  const work = mkdtempSync(join(tmpdir(), `evertorrent-${name}-`))
  const folders = [work, ...others(work)]
  const cleanUp = (): void => {
    killAllChildren()
    for (const folder of folders) rmSync(folder, { recursive: true, force: true })
  }
  const interrupt = (signal: NodeJS.Signals): void => {
    cleanUp()
    progress(`interrupted by ${signal}; removed ${folders.join(' and ')}`)
    process.exit(130)
  }
  process.once('SIGINT', interrupt)
  process.once('SIGTERM', interrupt)
  return { work, cleanUp }
}

/**
 * Runs a benchmark's `main` as its script's top level: the exit code `main` returns, or 1 with the
 * error (its stack where it has one) told through `progress`.
 */
export async function runBench (main: () => Promise<number>, progress: (message: string) => void): Promise<void> {
  try {
    process.exitCode = await main()
  } catch (error) {
    progress(error instanceof Error ? (error.stack ?? error.message) : String(error))
    process.exitCode = 1
  }
}
