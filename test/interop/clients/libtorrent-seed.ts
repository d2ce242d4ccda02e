import { parseScriptEvent, startLibtorrentScript } from './libtorrent-python.js'
import { pollUntil } from './poll-until.js'

export interface SeededTorrent {
  readonly torrentFile: string
  /** The folder holding the content under the torrent's name. */
  readonly saveDir: string
}

export interface LibtorrentSeedOptions {
  /** libtorrent's seed_mode: no check at start, each piece hashed when first asked for (a benchmark's peer). */
  readonly seedMode?: boolean
  /** MSE/PE off both ways. */
  readonly plaintext?: boolean
  readonly timeoutMs?: number
}

export interface LibtorrentSeed {
  readonly pid: number
  /** The TCP port it listens on, on 127.0.0.1. */
  readonly port: number
  /** The seed's recent libtorrent alerts, to explain a download that did not happen. */
  logTail (): string
  close (): Promise<void>
}

/** A libtorrent seed on 127.0.0.1 (lt_seed.py) for `torrents`; resolves once each one is verified and seeding. */
export async function startLibtorrentSeed (torrents: readonly SeededTorrent[], options: LibtorrentSeedOptions = {}): Promise<LibtorrentSeed> {
  let port: number | undefined
  let failure: string | undefined
  const args = [
    ...torrents.flatMap((torrent) => ['--seed', torrent.torrentFile, torrent.saveDir]),
    ...(options.seedMode === true ? ['--seed-mode'] : []),
    ...(options.plaintext === true ? ['--plaintext'] : [])
  ]
  const child = await startLibtorrentScript('libtorrent seed', 'lt_seed.py', args, {
    onStdoutLine: (line) => {
      const message = parseScriptEvent(line)
      if (message?.event === 'ready') port = Number(message.port)
      if (message?.event === 'error') failure = String(message.message)
    }
  })
  try {
    await pollUntil('every torrent to be checked and seeding', child, Date.now() + (options.timeoutMs ?? 30_000), async () =>
      port !== undefined ? { done: true, value: undefined } : { done: false, status: failure ?? 'checking' })
  } catch (error) {
    await child.stop()
    throw error
  }
  return { pid: child.pid, port: port!, logTail: () => child.logTail(), close: async () => { await child.stop() } }
}
