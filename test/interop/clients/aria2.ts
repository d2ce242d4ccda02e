import { describeExit } from '../../helpers/child-process.js'
import { ClientProcess, runToCompletion, type ClientProcessOptions } from './client-process.js'
import { ClientError, sourceOf, type Downloader, type DownloadRequest } from './downloader.js'
import { freePort } from './free-port.js'

const name = 'aria2'
const command = 'aria2c'

export interface Aria2Options {
  readonly dir: string
  /** The loopback address every socket, tracker requests included, is bound to; default 127.0.0.1. */
  readonly address?: string
  /** What to download, and how: `--torrent-file=…`, a magnet URI, `--input-file=…`, limits. */
  readonly args: readonly string[]
  readonly env?: ClientProcessOptions['env']
}

/**
 * aria2c on loopback only, with DHT, LPD and PEX off, saving into `dir`; it exits by itself once
 * every download is complete (`--seed-time=0`). The tests' downloader, the benchmark's and the soak's.
 */
export async function startAria2 (options: Aria2Options): Promise<ClientProcess> {
  return await ClientProcess.start(name, command, [
    '--no-conf=true',
    `--dir=${options.dir}`,
    '--enable-dht=false',
    '--enable-dht6=false',
    '--bt-enable-lpd=false',
    '--enable-peer-exchange=false',
    '--seed-time=0',
    `--listen-port=${await freePort()}`,
    `--interface=${options.address ?? '127.0.0.1'}`,
    '--disable-ipv6=true',
    // Should the test runner or the script die, aria2c follows it.
    `--stop-with-process=${process.pid}`,
    '--bt-save-metadata=false',
    '--file-allocation=none',
    '--auto-file-renaming=false',
    '--allow-overwrite=true',
    '--summary-interval=0',
    '--show-console-readout=false',
    '--enable-color=false',
    '--console-log-level=warn',
    ...options.args
  ], options.env === undefined ? {} : { env: options.env })
}

/** aria2c, one process per download. */
export const aria2Downloader: Downloader = {
  name,

  async version () {
    const output = await runToCompletion(name, command, ['--version'])
    return output.split('\n')[0]!.replace(/ version /, ' ')
  },

  async download (request: DownloadRequest) {
    const source = sourceOf(name, request)
    const child = await startAria2({
      dir: request.saveDir,
      args: [
        '--follow-torrent=mem', '--log=-', '--log-level=info',
        ...(request.requireEncryption === true ? ['--bt-require-crypto=true', '--bt-min-crypto-level=arc4'] : []),
        source.kind === 'torrent' ? `--torrent-file=${source.path}` : source.uri
      ]
    })
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
