import { sourcePath } from './repo.js'
import { runOk } from './run.js'

/**
 * The system Python: Debian's python3-libtorrent is built for it, not for whatever `python3` is first
 * on PATH, and a pyenv shim would add a process to every command bench-create measures.
 */
export const SYSTEM_PYTHON = '/usr/bin/python3'
const SCRIPT = sourcePath('test/helpers/inspect-torrent.py')

export interface LibtorrentFile {
  /** `/`-separated, starting with the torrent name for a multi-file torrent. */
  readonly path: string
  readonly size: number
  readonly pad: boolean
}

export interface LibtorrentCheck {
  /** libtorrent finished checking the data (torrent_checked_alert). */
  readonly checked: boolean
  /** e.g. `seeding`, `downloading`. */
  readonly state: string
  readonly progress: number
  readonly pieces_verified: number
  readonly errors: readonly string[]
}

export interface LibtorrentReport {
  readonly info_hash: string
  readonly name: string
  readonly total_size: number
  readonly piece_length: number
  readonly num_pieces: number
  readonly files: readonly LibtorrentFile[]
  /** libtorrent shuffles the URLs inside a tier (BEP 12), so compare tiers as sets. */
  readonly announce_tiers: ReadonlyArray<readonly string[]>
  /** BEP 19 `url-list`; libtorrent adds a trailing `/` to those of a multi-file torrent. */
  readonly url_seeds: readonly string[]
  /** BEP 17 `httpseeds`. */
  readonly http_seeds: readonly string[]
  readonly private: boolean
  readonly comment: string
  readonly creator: string
  /** Present when a data folder was given. */
  readonly check?: LibtorrentCheck
}

/**
 * Parses `torrent` with python3-libtorrent; with `savePath` (the folder that holds the torrent's file
 * or top folder) libtorrent also checks every piece against the data there.
 */
export async function inspectWithLibtorrent (torrent: string, savePath?: string): Promise<LibtorrentReport> {
  const result = await runOk(SYSTEM_PYTHON, [SCRIPT, torrent, ...(savePath === undefined ? [] : [savePath])], { timeoutMs: 150_000 })
  return JSON.parse(result.stdout) as LibtorrentReport
}
