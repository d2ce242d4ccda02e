import { describeExit } from '../../helpers/child-process.js'
import { runToCompletion } from './client-process.js'
import { ClientError, sourceOf, type Downloader, type DownloadRequest } from './downloader.js'
import { SYSTEM_PYTHON } from '../../helpers/libtorrent.js'
import { parseScriptEvent, startLibtorrentScript } from './libtorrent-python.js'
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
    const source = sourceOf(name, request)
    if (request.requireEncryption === true) throw new ClientError('ET_BAD_REQUEST', name, 'lt_client.py has no encryption setting: use lt_encryption.py')
    const deadline = Date.now() + request.timeoutMs
    let done = false
    let status = 'no status yet'
    const child = await startLibtorrentScript(name, 'lt_client.py', [
      ...(source.kind === 'torrent' ? ['--torrent', source.path] : ['--magnet', source.uri]),
      '--save', request.saveDir
    ], {
      onStdoutLine: (line) => {
        const message = parseScriptEvent(line)
        if (message?.event === 'done') done = true
        if (message?.event === 'status') status = line
      }
    })
    try {
      await pollUntil('the download', child, deadline, async () => done ? { done: true, value: undefined } : { done: false, status })
      const exit = await child.exited
      if (exit.code !== 0) throw child.failure(`lt_client.py exited with ${describeExit(exit)} after reporting the download done`)
    } finally {
      await child.stop()
    }
  }
}
