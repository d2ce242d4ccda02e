import { SYSTEM_PYTHON } from '../helpers/libtorrent.js'
import { sourcePath } from '../helpers/repo.js'
import { run } from '../helpers/run.js'

const SCRIPT = sourcePath('test/helpers/lt_download.py')

export interface LtDhtDownloadResult {
  readonly ok: boolean
  readonly seconds: number
  readonly total_size: number
  readonly downloaded: number
  readonly hash_failures: number
  readonly errors: readonly string[]
  readonly files: ReadonlyArray<{ readonly path: string, readonly size: number }>
  readonly dht_nodes: number
  /** `host:port` of every peer libtorrent connected to. */
  readonly peers: readonly string[]
}

/** Downloads a magnet link with libtorrent (test/helpers/lt_download.py --dht-bootstrap), its peers found through the DHT alone. */
export async function ltDhtDownload (magnet: string, saveDir: string, options: { bootstrap: string, listen: string, timeoutSeconds?: number }): Promise<LtDhtDownloadResult> {
  const timeoutSeconds = options.timeoutSeconds ?? 90
  const args = [SCRIPT, magnet, saveDir, '--dht-bootstrap', options.bootstrap, '--listen', options.listen, '--timeout', String(timeoutSeconds)]
  const result = await run(SYSTEM_PYTHON, args, { timeoutMs: (timeoutSeconds + 20) * 1000 })
  const last = result.stdout.trim().split('\n').at(-1) ?? ''
  try {
    const parsed = JSON.parse(last) as { event?: string }
    if (parsed.event === 'done') return parsed as unknown as LtDhtDownloadResult
  } catch {}
  throw new Error(`lt_download.py gave no result (exit ${String(result.exitCode)}): ${result.stderr.trim() || result.stdout.trim().slice(-2000)}`)
}
