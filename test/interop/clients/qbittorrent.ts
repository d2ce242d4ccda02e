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
    const profile = await mkdtemp(join(tmpdir(), 'evertorrent-qbittorrent-'))
    const webPort = await freePort()
    await mkdir(join(profile, 'qBittorrent', 'config'), { recursive: true })
    await writeFile(join(profile, 'qBittorrent', 'config', 'qBittorrent.conf'), configuration(webPort, await freePort(), request.requireEncryption === true))
    const child = await ClientProcess.start(name, command, [`--profile=${profile}`])
    const api = `http://127.0.0.1:${webPort}/api/v2`
    try {
      await pollUntil('the Web UI to answer', child, deadline, async () => {
        await call(`${api}/app/version`)
        return { done: true, value: undefined }
      })
      if (request.requireEncryption === true) await checkEncryptionRequired(api)
      await call(`${api}/torrents/add`, await addForm(source, request.saveDir)).catch((error: unknown) => { throw child.failure('could not add the torrent', error) })
      await pollUntil('the download', child, deadline, async () => {
        const torrents = JSON.parse(await call(`${api}/torrents/info`)) as TorrentInfo[]
        const torrent = torrents[0]
        if (torrent === undefined) return { done: false, status: 'the torrent is not listed yet' }
        const complete = torrent.progress === 1 && torrent.amount_left === 0 && seedingStates.has(torrent.state)
        return complete ? { done: true, value: undefined } : { done: false, status: JSON.stringify(torrent) }
      })
      // A clean exit closes the files and the session; only then is the download over.
      await call(`${api}/app/shutdown`, new URLSearchParams()).catch((error: unknown) => { throw child.failure('could not shut down', error) })
      await pollUntil('qBittorrent to exit', child, Math.min(deadline, Date.now() + shutdownGraceMs), async () =>
        child.hasExited ? { done: true, value: undefined } : { done: false, status: 'shutting down' })
    } catch (error) {
      if (error instanceof ClientError) error.message += `\n--- qbittorrent.log tail ---\n${await logTail(profile)}`
      throw error
    } finally {
      await child.stop(shutdownGraceMs)
      await rm(profile, { recursive: true, force: true })
    }
  }
}

// Torrent states (Web API v2) once all wanted data is downloaded and checked.
const seedingStates = new Set(['uploading', 'stalledUP', 'pausedUP', 'queuedUP', 'forcedUP'])

interface TorrentInfo {
  readonly progress: number
  readonly amount_left: number
  readonly state: string
}

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
async function checkEncryptionRequired (api: string): Promise<void> {
  const preferences = JSON.parse(await call(`${api}/app/preferences`)) as { encryption?: number }
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

/** GET, or POST when there is a body; the answer's text. qBittorrent answers "Fails." with 200 to a bad add. */
async function call (url: string, body?: FormData | URLSearchParams): Promise<string> {
  const response = await fetch(url, body === undefined ? {} : { method: 'POST', body })
  const text = await response.text()
  if (!response.ok || text === 'Fails.') throw new Error(`${url}: HTTP ${response.status} ${text}`)
  return text
}

async function logTail (profile: string): Promise<string> {
  const log = await readFile(join(profile, 'qBittorrent', 'data', 'logs', 'qbittorrent.log'), 'utf8').catch((error: Error) => `(no log: ${error.message})`)
  return log.split('\n').slice(-60).join('\n')
}
