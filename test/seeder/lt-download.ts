import { SYSTEM_PYTHON } from '../helpers/libtorrent.js'
import { sourcePath } from '../helpers/repo.js'
import { run } from '../helpers/run.js'

const SCRIPT = sourcePath('test/helpers/lt_download.py')

export interface LtDownloadResult {
  readonly ok: boolean
  readonly seconds: number
  readonly total_size: number
  readonly downloaded: number
  readonly rate: number
  readonly hash_failures: number
  readonly errors: readonly string[]
  readonly files: ReadonlyArray<{ readonly path: string, readonly size: number }>
  /** `host:port` of every peer libtorrent connected to. */
  readonly peers: readonly string[]
}

/** Downloads a .torrent file or magnet URI with libtorrent (test/helpers/lt_download.py) from the given peers only. */
export async function ltDownload<Result extends LtDownloadResult = LtDownloadResult> (source: string, saveDir: string, peers: readonly string[], timeoutSeconds = 30, extraArgs: readonly string[] = []): Promise<Result> {
  const args = [SCRIPT, source, saveDir, ...peers.flatMap((peer) => ['--peer', peer]), '--timeout', String(timeoutSeconds), ...extraArgs]
  const result = await run(SYSTEM_PYTHON, args, { timeoutMs: (timeoutSeconds + 20) * 1000 })
  const last = result.stdout.trim().split('\n').at(-1) ?? ''
  try {
    const parsed = JSON.parse(last) as { event?: string }
    if (parsed.event === 'done') return parsed as unknown as Result
  } catch {}
  throw new Error(`lt_download.py gave no result (exit ${String(result.exitCode)}): ${result.stderr.trim() || result.stdout.trim()}`)
}
