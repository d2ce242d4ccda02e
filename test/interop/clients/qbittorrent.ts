import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { ClientProcess, runToCompletion } from './client-process.js'
import { ClientError, sourceOf, type Downloader, type DownloadRequest } from './downloader.js'
import { freePort } from './free-port.js'
import { pollUntil } from './poll-until.js'

const name = 'qbittorrent'
const command = 'qbittorrent-nox'
// Its clean exit (stopped announces, session teardown) took 21 s once under the full suite's load.
const shutdownGraceMs = 40_000

/** qbittorrent-nox with its own profile, one process per download, driven over its Web API v2. */
export const qbittorrentDownloader: Downloader = {
  name,

  async version () {
    const output = await runToCompletion(name, command, ['--version'])
    return output.trim().replace(/ v(\d)/, ' $1')
  },

  async download (request: DownloadRequest) {
    const source = sourceOf(name, request)
    const deadline = Date.now() + request.timeoutMs
    const qbittorrent = await Qbittorrent.start(deadline, { requireEncryption: request.requireEncryption === true })
    try {
      if (request.requireEncryption === true) await checkEncryptionRequired(qbittorrent)
      await qbittorrent.call('torrents/add', await addForm(source, request.saveDir)).catch((error: unknown) => { throw qbittorrent.failure('could not add the torrent', error) })
      await qbittorrent.waitForComplete(deadline)
      await qbittorrent.shutdown(deadline)
    } catch (error) {
      throw await qbittorrent.withLog(error)
    } finally {
      await qbittorrent.stop()
    }
  }
}

/** A torrent as `/api/v2/torrents/info` lists it (the fields the tests read). */
export interface TorrentInfo {
  readonly hash: string
  readonly name: string
  readonly progress: number
  readonly amount_left: number
  readonly state: string
}

/**
 * One qbittorrent-nox with a profile of its own (see `configuration`), its Web API on a free loopback
 * port. `stop()` (in a `finally`) ends the process and removes the profile.
 */
export class Qbittorrent {
  private constructor (private readonly child: ClientProcess, private readonly profile: string, private readonly api: string) {}

  /** Starts it and waits for its Web UI to answer, by `deadline` (epoch ms). */
  static async start (deadline: number, options: { requireEncryption?: boolean } = {}): Promise<Qbittorrent> {
    const profile = await mkdtemp(join(tmpdir(), 'evertorrent-qbittorrent-'))
    try {
      const webPort = await freePort()
      await mkdir(join(profile, 'qBittorrent', 'config'), { recursive: true })
      await writeFile(join(profile, 'qBittorrent', 'config', 'qBittorrent.conf'), configuration(webPort, await freePort(), options.requireEncryption === true))
      const child = await ClientProcess.start(name, command, [`--profile=${profile}`])
      const qbittorrent = new Qbittorrent(child, profile, `http://127.0.0.1:${webPort}/api/v2`)
      await pollUntil('the Web UI to answer', child, deadline, async () => {
        await qbittorrent.call('app/version')
        return { done: true, value: undefined }
      }).catch(async (error: unknown) => {
        await qbittorrent.stop()
        throw error
      })
      return qbittorrent
    } catch (error) {
      await rm(profile, { recursive: true, force: true })
      throw error
    }
  }

  /** GET `/api/v2/<path>`, or POST when there is a body; the answer's text. qBittorrent answers "Fails." with 200 to a bad add. */
  async call (path: string, body?: FormData | URLSearchParams): Promise<string> {
    const url = `${this.api}/${path}`
    const response = await fetch(url, body === undefined ? {} : { method: 'POST', body })
    const text = await response.text()
    if (!response.ok || text === 'Fails.') throw new Error(`${url}: HTTP ${response.status} ${text}`)
    return text
  }

  async torrents (): Promise<TorrentInfo[]> {
    return JSON.parse(await this.call('torrents/info')) as TorrentInfo[]
  }

  /** Waits until the torrent `hash` (default: the first listed) is complete and checked, by `deadline`; failing on a timeout or its exit. */
  async waitForComplete (deadline: number, hash?: string): Promise<TorrentInfo> {
    return await pollUntil(`the download${hash === undefined ? '' : ` of ${hash}`}`, this.child, deadline, async () => {
      const torrents = await this.torrents()
      const torrent = hash === undefined ? torrents[0] : torrents.find((listed) => listed.hash === hash)
      if (torrent === undefined) return { done: false, status: `not listed yet (listed: ${JSON.stringify(torrents)})` }
      const complete = torrent.progress === 1 && torrent.amount_left === 0 && seedingStates.has(torrent.state)
      return complete ? { done: true, value: torrent } : { done: false, status: JSON.stringify(torrent) }
    })
  }

  /** Asks it to exit and waits until it has: only then are its files closed and the download over. */
  async shutdown (deadline: number): Promise<void> {
    await this.call('app/shutdown', new URLSearchParams()).catch((error: unknown) => { throw this.failure('could not shut down', error) })
    await pollUntil('qBittorrent to exit', this.child, Math.min(deadline, Date.now() + shutdownGraceMs), async () =>
      this.child.hasExited ? { done: true, value: undefined } : { done: false, status: 'shutting down' })
  }

  /** An ET_CLIENT_FAILED error with the process's output, for a step that went wrong. */
  failure (message: string, cause?: unknown): ClientError {
    return this.child.failure(message, cause)
  }

  /** `error`, with the tail of qbittorrent.log added to a client error's message. */
  async withLog (error: unknown): Promise<unknown> {
    if (error instanceof ClientError) error.message += `\n--- qbittorrent.log tail ---\n${await logTail(this.profile)}`
    return error
  }

  /** Stops the process (SIGTERM, then SIGKILL) and removes its profile. */
  async stop (): Promise<void> {
    await this.child.stop(shutdownGraceMs)
    await rm(this.profile, { recursive: true, force: true })
  }
}

// Torrent states (Web API v2) once all wanted data is downloaded and checked.
const seedingStates = new Set(['uploading', 'stalledUP', 'pausedUP', 'queuedUP', 'forcedUP'])

/**
 * qBittorrent.conf for 4.5: legal notice accepted, Web UI on loopback without auth for localhost,
 * peers on loopback only (`InterfaceAddress`), no DHT, PeX, LSD, UPnP/NAT-PMP, no queueing, and
 * no peer-country lookups (they download a GeoIP database from the internet).
 */
function configuration (webPort: number, peerPort: number, requireEncryption: boolean): string {
  return `[LegalNotice]
Accepted=true

[BitTorrent]
Session\\DHTEnabled=false
Session\\PeXEnabled=false
Session\\LSDEnabled=false
Session\\Port=${peerPort}
Session\\InterfaceAddress=127.0.0.1
Session\\QueueingSystemEnabled=false
Session\\MultiConnectionsPerIp=true
Session\\Encryption=${requireEncryption ? 1 : 0}

[Network]
PortForwardingEnabled=false

[Preferences]
Connection\\ResolvePeerCountries=false
WebUI\\Address=127.0.0.1
WebUI\\Port=${webPort}
WebUI\\LocalHostAuth=false
WebUI\\UseUPnP=false
`
}

/** qBittorrent's encryption mode: 0 allow, 1 require, 2 off. A key it ignored would leave "allow": ask it what it runs with. */
async function checkEncryptionRequired (qbittorrent: Qbittorrent): Promise<void> {
  const preferences = JSON.parse(await qbittorrent.call('app/preferences')) as { encryption?: number }
  if (preferences.encryption !== 1) throw new Error(`qBittorrent runs with encryption mode ${String(preferences.encryption)}, not 1 (require): the config key is wrong`)
}

async function addForm (source: ReturnType<typeof sourceOf>, saveDir: string): Promise<FormData> {
  const form = new FormData()
  if (source.kind === 'torrent') form.append('torrents', new Blob([await readFile(source.path)]), basename(source.path))
  else form.append('urls', source.uri)
  form.append('savepath', saveDir)
  form.append('paused', 'false')
  form.append('autoTMM', 'false')
  return form
}

async function logTail (profile: string): Promise<string> {
  const log = await readFile(join(profile, 'qBittorrent', 'data', 'logs', 'qbittorrent.log'), 'utf8').catch((error: Error) => `(no log: ${error.message})`)
  return log.split('\n').slice(-60).join('\n')
}
