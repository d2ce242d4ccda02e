import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ClientProcess, runToCompletion } from './client-process.js'
import { sourceOf, type Downloader, type DownloadRequest } from './downloader.js'
import { freePort } from './free-port.js'
import { pollUntil } from './poll-until.js'

const name = 'transmission'
const command = 'transmission-daemon'

/**
 * transmission-daemon with its own config folder, one daemon per download, driven over its JSON-RPC.
 * Transmission 3.00 never dials a peer in 127.0.0.0/8 or ::1 (`isMartianAddr`): on loopback it
 * downloads only from seeds that connect to it, after learning its address from the tracker.
 */
export const transmissionDownloader: Downloader = {
  name,

  async version () {
    const output = await runToCompletion(name, command, ['--version'])
    return output.split('\n')[0]!.replace(/ \(.*$/, '')
  },

  async download (request: DownloadRequest) {
    const source = sourceOf(name, request)
    const deadline = Date.now() + request.timeoutMs
    const configDir = await mkdtemp(join(tmpdir(), 'evertorrent-transmission-'))
    const rpcPort = await freePort()
    await writeFile(join(configDir, 'settings.json'), JSON.stringify(settings(request.saveDir, rpcPort, await freePort()), null, 2))
    const child = await ClientProcess.start(name, command, ['--foreground', '--config-dir', configDir, '--log-info'])
    try {
      const rpc = new TransmissionRpc(`http://127.0.0.1:${rpcPort}/transmission/rpc`)
      await pollUntil('the RPC port to answer', child, deadline, async () => {
        await rpc.call('session-get', {})
        return { done: true, value: undefined }
      })
      const added = await rpc.call('torrent-add', source.kind === 'torrent'
        ? { metainfo: (await readFile(source.path)).toString('base64'), 'download-dir': request.saveDir, paused: false }
        : { filename: source.uri, 'download-dir': request.saveDir, paused: false })
        .catch((error: unknown) => { throw child.failure('could not add the torrent', error) })
      const torrent = (added['torrent-added'] ?? added['torrent-duplicate']) as { id: number }
      await pollUntil('the download', child, deadline, async () => {
        const status = await torrentStatus(rpc, torrent.id)
        const complete = status.metadataPercentComplete === 1 && status.leftUntilDone === 0 && status.percentDone === 1
        if (complete) return { done: true, value: undefined }
        const hint = status.peersConnected === 0 ? 'no peer connected: transmission 3.00 never dials 127.0.0.0/8, the seed has to connect to it; ' : ''
        return { done: false, status: hint + JSON.stringify(status) }
      })
      // Stopping the torrent flushes transmission's write cache and closes the files.
      await rpc.call('torrent-stop', { ids: [torrent.id] }).catch((error: unknown) => { throw child.failure('could not stop the torrent', error) })
      await pollUntil('the torrent to stop', child, deadline, async () => {
        const status = await torrentStatus(rpc, torrent.id)
        return status.status === stopped ? { done: true, value: undefined } : { done: false, status: JSON.stringify(status) }
      })
    } finally {
      await child.stop()
      await rm(configDir, { recursive: true, force: true })
    }
  }
}

const stopped = 0

/** settings.json: loopback only, no DHT, LPD, PEX or port mapping, no RPC auth, no queueing. */
function settings (downloadDir: string, rpcPort: number, peerPort: number): Record<string, unknown> {
  return {
    'dht-enabled': false,
    'lpd-enabled': false,
    'pex-enabled': false,
    'port-forwarding-enabled': false,
    'bind-address-ipv4': '127.0.0.1',
    'bind-address-ipv6': '::1',
    'peer-port': peerPort,
    'peer-port-random-on-start': false,
    'rpc-enabled': true,
    'rpc-bind-address': '127.0.0.1',
    'rpc-port': rpcPort,
    'rpc-authentication-required': false,
    'rpc-whitelist-enabled': true,
    'rpc-whitelist': '127.0.0.1',
    'rpc-host-whitelist-enabled': false,
    'download-dir': downloadDir,
    'incomplete-dir-enabled': false,
    'rename-partial-files': false,
    'start-added-torrents': true,
    'download-queue-enabled': false,
    'seed-queue-enabled': false,
    'queue-stalled-enabled': false,
    'blocklist-enabled': false,
    'watch-dir-enabled': false,
    'ratio-limit-enabled': false,
    'idle-seeding-limit-enabled': false,
    'speed-limit-down-enabled': false,
    'speed-limit-up-enabled': false,
    'alt-speed-enabled': false,
    'script-torrent-done-enabled': false
  }
}

interface TorrentStatus {
  readonly status: number
  readonly percentDone: number
  readonly leftUntilDone: number
  readonly metadataPercentComplete: number
  readonly peersConnected: number
  readonly error: number
  readonly errorString: string
}

async function torrentStatus (rpc: TransmissionRpc, id: number): Promise<TorrentStatus> {
  const fields = ['status', 'percentDone', 'leftUntilDone', 'metadataPercentComplete', 'peersConnected', 'error', 'errorString']
  const result = await rpc.call('torrent-get', { ids: [id], fields })
  const torrents = result.torrents as TorrentStatus[]
  if (torrents.length !== 1) throw new Error(`torrent ${id} is gone`)
  return torrents[0]!
}

/** Transmission's JSON-RPC: the first call is answered 409 with the session id every later call must carry. */
class TransmissionRpc {
  readonly #url: string
  #sessionId = ''

  constructor (url: string) {
    this.#url = url
  }

  async call (method: string, args: Record<string, unknown>): Promise<Record<string, unknown>> {
    for (let attempt = 0; attempt < 2; attempt++) {
      const response = await fetch(this.#url, {
        method: 'POST',
        headers: { 'X-Transmission-Session-Id': this.#sessionId, 'Content-Type': 'application/json' },
        body: JSON.stringify({ method, arguments: args })
      })
      if (response.status === 409) {
        this.#sessionId = response.headers.get('X-Transmission-Session-Id') ?? ''
        continue
      }
      if (!response.ok) throw new Error(`${method}: HTTP ${response.status}`)
      const body = await response.json() as { result: string, arguments: Record<string, unknown> }
      if (body.result !== 'success') throw new Error(`${method}: ${body.result}`)
      return body.arguments
    }
    throw new Error(`${method}: no session id accepted`)
  }
}
