import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Exit } from '../../helpers/child-process.js'
import { ClientProcess, runToCompletion } from './client-process.js'
import { sourceOf, type Downloader, type DownloadRequest } from './downloader.js'
import { freePort } from './free-port.js'
import { pollUntil } from './poll-until.js'

const name = 'transmission'
const command = 'transmission-daemon'

export interface TransmissionDaemonOptions {
  /** Its settings.json goes here; the folder must exist. */
  readonly configDir: string
  /** Where added torrents' data is, or goes. */
  readonly downloadDir: string
  /** Epoch ms by which its RPC port must answer. */
  readonly deadline: number
  /** Accept and make only encrypted (MSE/PE) connections (`"encryption": 2`). Default: as shipped, preferred. */
  readonly requireEncryption?: boolean
  /** Default: `info`, for the log tail of a failed download; a benchmark asks for less. */
  readonly logLevel?: 'info' | 'error'
}

/**
 * transmission-daemon with its own config folder (`settings`), driven over its JSON-RPC: the tests'
 * downloader, and a seeder the serve benchmark compares with.
 */
export class TransmissionDaemon {
  private constructor (readonly process: ClientProcess, readonly rpc: TransmissionRpc, readonly peerPort: number) {}

  /** Resolves once its RPC port answers. */
  static async start (options: TransmissionDaemonOptions): Promise<TransmissionDaemon> {
    const rpcPort = await freePort()
    const peerPort = await freePort()
    await writeFile(join(options.configDir, 'settings.json'), JSON.stringify({ ...settings(options.downloadDir, rpcPort, peerPort), ...(options.requireEncryption === true && { encryption: 2 }) }, null, 2))
    const child = await ClientProcess.start(name, command, ['--foreground', '--config-dir', options.configDir, `--log-${options.logLevel ?? 'info'}`])
    const daemon = new TransmissionDaemon(child, new TransmissionRpc(`http://127.0.0.1:${rpcPort}/transmission/rpc`), peerPort)
    try {
      await pollUntil('the RPC port to answer', child, options.deadline, async () => {
        await daemon.rpc.call('session-get', {})
        return { done: true, value: undefined }
      })
    } catch (error) {
      await child.stop()
      throw error
    }
    return daemon
  }

  /** Adds a torrent, started at once; resolves with its id. */
  async add (source: ReturnType<typeof sourceOf>, downloadDir: string): Promise<number> {
    const added = await this.rpc.call('torrent-add', source.kind === 'torrent'
      ? { metainfo: (await readFile(source.path)).toString('base64'), 'download-dir': downloadDir, paused: false }
      : { filename: source.uri, 'download-dir': downloadDir, paused: false })
      .catch((error: unknown) => { throw this.process.failure('could not add the torrent', error) })
    return ((added['torrent-added'] ?? added['torrent-duplicate']) as { id: number }).id
  }

  async status (id: number): Promise<TorrentStatus> {
    const fields = ['status', 'percentDone', 'leftUntilDone', 'metadataPercentComplete', 'peersConnected', 'error', 'errorString']
    const result = await this.rpc.call('torrent-get', { ids: [id], fields })
    const torrents = result.torrents as TorrentStatus[]
    if (torrents.length !== 1) throw new Error(`torrent ${id} is gone`)
    return torrents[0]!
  }

  async stop (): Promise<Exit> {
    return await this.process.stop()
  }
}

/**
 * Transmission, one daemon per download. Transmission 3.00 never dials a peer in 127.0.0.0/8 or ::1
 * (`isMartianAddr`): on loopback it downloads only from seeds that connect to it, after learning its
 * address from the tracker.
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
    try {
      const daemon = await TransmissionDaemon.start({ configDir, downloadDir: request.saveDir, deadline, ...(request.requireEncryption === true && { requireEncryption: true }) })
      try {
        if (request.requireEncryption === true) await checkEncryptionRequired(daemon)
        await downloadWith(daemon, source, request.saveDir, deadline)
      } finally {
        await daemon.stop()
      }
    } finally {
      await rm(configDir, { recursive: true, force: true })
    }
  }
}

/** Transmission answers `session-get` with the mode it runs with; a setting it ignored would show "preferred". */
async function checkEncryptionRequired (daemon: TransmissionDaemon): Promise<void> {
  const session = await daemon.rpc.call('session-get', {})
  if (session.encryption !== 'required') throw new Error(`transmission runs with encryption "${String(session.encryption)}", not "required"`)
}

async function downloadWith (daemon: TransmissionDaemon, source: ReturnType<typeof sourceOf>, saveDir: string, deadline: number): Promise<void> {
  const id = await daemon.add(source, saveDir)
  await pollUntil('the download', daemon.process, deadline, async () => {
    const status = await daemon.status(id)
    const complete = status.metadataPercentComplete === 1 && status.leftUntilDone === 0 && status.percentDone === 1
    if (complete) return { done: true, value: undefined }
    const hint = status.peersConnected === 0 ? 'no peer connected: transmission 3.00 never dials 127.0.0.0/8, the seed has to connect to it; ' : ''
    return { done: false, status: hint + JSON.stringify(status) }
  })
  // Stopping the torrent flushes transmission's write cache and closes the files.
  await daemon.rpc.call('torrent-stop', { ids: [id] }).catch((error: unknown) => { throw daemon.process.failure('could not stop the torrent', error) })
  await pollUntil('the torrent to stop', daemon.process, deadline, async () => {
    const status = await daemon.status(id)
    return status.status === stopped ? { done: true, value: undefined } : { done: false, status: JSON.stringify(status) }
  })
}

const stopped = 0
/** An answer takes milliseconds; a daemon that gives none in this long is stuck. */
const RPC_TIMEOUT_MS = 30_000

/** settings.json: loopback only; no DHT, LPD, PEX, uTP or port mapping; no RPC auth; no limits or queues; the rest as shipped. */
function settings (downloadDir: string, rpcPort: number, peerPort: number): Record<string, unknown> {
  return {
    'dht-enabled': false,
    'lpd-enabled': false,
    'pex-enabled': false,
    'utp-enabled': false,
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
        body: JSON.stringify({ method, arguments: args }),
        signal: AbortSignal.timeout(RPC_TIMEOUT_MS)
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
