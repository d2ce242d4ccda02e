import { cliPath } from './repo.js'
import { run, type RunOptions, type RunResult } from './run.js'

/** Runs the compiled `evertorrent` CLI with the Node running the tests. */
export async function runCli (args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return await run(process.execPath, [cliPath, ...args], { timeoutMs: 120_000, ...options })
}

export interface CreateOutput {
  readonly torrent: string
  readonly infoHash: string
  /** Hybrid and v2 torrents. */
  readonly infoHashV2?: string
  readonly magnet: string
}

/** Reads the three lines `evertorrent create` prints on success; throws if they are not exactly that. */
export function parseCreateOutput (stdout: string): CreateOutput {
  const match = /^torrent {2}(.+)\ninfohash ([0-9a-f]{40})\n(?:v2 hash {2}([0-9a-f]{64})\n)?magnet {3}(magnet:\?\S+)\n$/.exec(stdout)
  if (match === null) throw new Error(`unexpected output from evertorrent create:\n${stdout}`)
  return { torrent: match[1]!, infoHash: match[2]!, ...(match[3] !== undefined && { infoHashV2: match[3] }), magnet: match[4]! }
}

/**
 * The failure contract of the CLI: nothing on stdout, exactly one line on stderr, the given exit
 * code (1 for an error, 2 for a usage error). Returns the message after the `evertorrent: [error: ]` prefix.
 */
export function cliErrorMessage (result: RunResult, exitCode: 1 | 2): string {
  const prefix = exitCode === 1 ? 'evertorrent: error: ' : 'evertorrent: '
  const problems: string[] = []
  if (result.exitCode !== exitCode) problems.push(`exit code ${String(result.exitCode)} (signal ${String(result.signal)}), expected ${exitCode}`)
  if (result.stdout !== '') problems.push('output on stdout')
  if (!result.stderr.startsWith(prefix) || !result.stderr.endsWith('\n') || result.stderr.slice(0, -1).includes('\n')) {
    problems.push(`stderr is not one line starting with "${prefix}"`)
  }
  if (problems.length > 0) {
    throw new Error(`${result.command}: ${problems.join('; ')}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`)
  }
  return result.stderr.slice(prefix.length, -1)
}
