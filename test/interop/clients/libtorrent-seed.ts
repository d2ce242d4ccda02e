import { parseScriptEvent, startLibtorrentScript } from './libtorrent-python.js'
import { pollUntil } from './poll-until.js'

export interface SeededTorrent {
  readonly torrentFile: string
  /** The folder holding the content under the torrent's name. */
  readonly saveDir: string
}

export interface LibtorrentSeed {
  /** The seed's recent libtorrent alerts, to explain a download that did not happen. */
  logTail (): string
  close (): Promise<void>
}

/** A libtorrent seed on 127.0.0.1 (lt_seed.py) for `torrents`; resolves once each one is verified and seeding. */
export async function startLibtorrentSeed (torrents: readonly SeededTorrent[], timeoutMs = 30_000): Promise<LibtorrentSeed> {
  let ready = false
  let failure: string | undefined
  const child = await startLibtorrentScript('libtorrent seed', 'lt_seed.py', torrents.flatMap((torrent) => ['--seed', torrent.torrentFile, torrent.saveDir]), {
    onStdoutLine: (line) => {
      const message = parseScriptEvent(line)
      if (message?.event === 'ready') ready = true
      if (message?.event === 'error') failure = String(message.message)
    }
  })
  try {
    await pollUntil('every torrent to be checked and seeding', child, Date.now() + timeoutMs, async () =>
      ready ? { done: true, value: undefined } : { done: false, status: failure ?? 'checking' })
  } catch (error) {
    await child.stop()
    throw error
  }
  return { logTail: () => child.logTail(), close: async () => { await child.stop() } }
}
