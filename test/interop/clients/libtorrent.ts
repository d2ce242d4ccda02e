import { describeExit } from '../../helpers/child-process.js'
import { runToCompletion } from './client-process.js'
import { ClientError, sourceOf, type Downloader, type DownloadRequest } from './downloader.js'
import { SYSTEM_PYTHON } from '../../helpers/libtorrent.js'
import { parseScriptEvent, startLibtorrentScript, type ScriptEvent } from './libtorrent-python.js'
import { pollUntil } from './poll-until.js'

const name = 'libtorrent'

/** libtorrent-rasterbar through its Python binding, running lt_client.py: one session per download. */
export const libtorrentDownloader: Downloader = {
  name,

  async version () {
    const output = await runToCompletion(name, SYSTEM_PYTHON, ['-c', 'import libtorrent; print(libtorrent.__version__)'])
    return `libtorrent ${output.trim()}`
  },

  async download (request: DownloadRequest) {
    await runLtClient(request, [])
  }
}

/** What libtorrent's peer log saw of the BEP 52 wire during one download (see lt_client.py --wire-report). */
export interface WireReport {
  readonly v2_handshakes: number
  readonly hash_requests_sent: number
  readonly hashes_received: number
  readonly hash_rejects_received: number
  readonly hash_failures: number
}

/** Downloads as `libtorrentDownloader` does, with libtorrent's peer log on, and reports what it saw of the BEP 52 wire. */
export async function downloadWithWireReport (request: DownloadRequest): Promise<WireReport> {
  const done = await runLtClient(request, ['--wire-report'])
  return done as unknown as WireReport
}

/**
 * Debian's libtorrent 2.0.8 now and then dies of SIGSEGV (in full-suite runs, mostly before it has a
 * peer; see lt_session.py): such a download is started once more, said on stderr. A second crash, and
 * any other failure, fails the download.
 */
async function runLtClient (request: DownloadRequest, extraArgs: readonly string[]): Promise<ScriptEvent> {
  try {
    return await runLtClientOnce(request, extraArgs)
  } catch (error) {
    if (!(error instanceof ClientError && /exited with signal SIGSEGV/.test(error.message))) throw error
    process.stderr.write(`libtorrent crashed (SIGSEGV) and is started once more: ${error.message.split('\n')[0]!}\n`)
    return await runLtClientOnce(request, extraArgs)
  }
}

async function runLtClientOnce (request: DownloadRequest, extraArgs: readonly string[]): Promise<ScriptEvent> {
  const source = sourceOf(name, request)
  if (request.requireEncryption === true) throw new ClientError('ET_BAD_REQUEST', name, 'lt_client.py has no encryption setting: use lt_encryption.py')
  const deadline = Date.now() + request.timeoutMs
  let done: ScriptEvent | undefined
  let status = 'no status yet'
  const child = await startLibtorrentScript(name, 'lt_client.py', [
    ...(source.kind === 'torrent' ? ['--torrent', source.path] : ['--magnet', source.uri]),
    '--save', request.saveDir,
    ...extraArgs
  ], {
    onStdoutLine: (line) => {
      const message = parseScriptEvent(line)
      if (message?.event === 'done') done = message
      if (message?.event === 'status') status = line
    }
  })
  try {
    await pollUntil('the download', child, deadline, async () => done !== undefined ? { done: true, value: undefined } : { done: false, status })
    const exit = await child.exited
    if (exit.code !== 0) throw child.failure(`lt_client.py exited with ${describeExit(exit)} after reporting the download done`)
    return done!
  } finally {
    await child.stop()
  }
}
