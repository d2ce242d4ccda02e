import { ClientError } from './downloader.js'
import { parseScriptEvent, startLibtorrentScript } from './libtorrent-python.js'
import { pollUntil } from './poll-until.js'

export interface SeededTorrent {
  readonly torrentFile: string
  /** The folder holding the content under the torrent's name. */
  readonly saveDir: string
}

export interface LibtorrentSeed {
  readonly port: number
  /** The seed's recent libtorrent alerts, to explain a download that did not happen. */
  logTail (): string
  close (): Promise<void>
}

/** A libtorrent seed on 127.0.0.1 (lt_seed.py) for `torrents`; resolves once each one is verified and seeding. */
export async function startLibtorrentSeed (torrents: readonly SeededTorrent[], timeoutMs = 30_000): Promise<LibtorrentSeed> {
  let port: number | undefined
  let failure: string | undefined
  const child = await startLibtorrentScript('libtorrent seed', 'lt_seed.py', torrents.flatMap((torrent) => ['--seed', torrent.torrentFile, torrent.saveDir]), {
    onStdoutLine: (line) => {
      const message = parseScriptEvent(line)
      if (message?.event === 'ready') port = Number(message.port)
      if (message?.event === 'error') failure = String(message.message)
    }
  })
  try {
    const readyPort = await pollUntil('every torrent to be checked and seeding', child, Date.now() + timeoutMs, async () =>
      port !== undefined ? { done: true, value: port } : { done: false, status: failure ?? 'checking' })
    return { port: readyPort, logTail: () => child.logTail(), close: async () => { await child.stop() } }
  } catch (error) {
    await child.stop()
    if (failure !== undefined) throw new ClientError('ET_CLIENT_FAILED', child.client, failure, { logTail: child.logTail(), cause: error })
    throw error
  }
}
