import { ClientProcess, describeExit, runToCompletion } from './client-process.js'
import { ClientError, sourceOf, type Downloader, type DownloadRequest } from './downloader.js'
import { freePort } from './free-port.js'

const name = 'aria2'
const command = 'aria2c'

/** aria2c, one process per download; it exits by itself once the download is complete (`--seed-time=0`). */
export const aria2Downloader: Downloader = {
  name,

  async version () {
    const output = await runToCompletion(name, command, ['--version'])
    return output.split('\n')[0]!.replace(/ version /, ' ')
  },

  async download (request: DownloadRequest) {
    const source = sourceOf(name, request)
    const child = await ClientProcess.start(name, command, [
      '--no-conf=true',
      `--dir=${request.saveDir}`,
      '--enable-dht=false',
      '--enable-dht6=false',
      '--bt-enable-lpd=false',
      '--enable-peer-exchange=false',
      '--seed-time=0',
      `--listen-port=${await freePort()}`,
      // Binds every socket, tracker requests included, to loopback.
      '--interface=127.0.0.1',
      '--disable-ipv6=true',
      // Should this test runner die, aria2c follows it.
      `--stop-with-process=${process.pid}`,
      '--follow-torrent=mem',
      '--bt-save-metadata=false',
      '--file-allocation=none',
      '--auto-file-renaming=false',
      '--allow-overwrite=true',
      '--summary-interval=0',
      '--show-console-readout=false',
      '--enable-color=false',
      '--console-log-level=warn',
      '--log=-',
      '--log-level=info',
      ...(source.kind === 'torrent' ? [`--torrent-file=${source.path}`] : [source.uri])
    ])
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      void child.stop()
    }, request.timeoutMs)
    try {
      const exit = await child.exited
      if (exit.code === 0 && !timedOut) return
      if (timedOut) throw new ClientError('ET_DOWNLOAD_TIMEOUT', name, `the download did not complete within ${request.timeoutMs} ms`, { logTail: child.logTail() })
      throw new ClientError('ET_CLIENT_FAILED', name, `aria2c exited with ${describeExit(exit)} before the download was complete`, { logTail: child.logTail() })
    } finally {
      clearTimeout(timer)
      await child.stop()
    }
  }
}
