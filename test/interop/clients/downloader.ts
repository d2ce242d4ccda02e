/** What a real BitTorrent client is asked to fetch. Exactly one of `torrentFile` and `magnet`. */
export interface DownloadRequest {
  readonly torrentFile?: string
  readonly magnet?: string
  /** The content lands here as the torrent names it: `<saveDir>/<name>` (a file or a folder). */
  readonly saveDir: string
  readonly timeoutMs: number
  /** Set the client to require encryption (MSE/PE), as a user would in its settings; clients that cannot throw ET_BAD_REQUEST. */
  readonly requireEncryption?: boolean
}

/** One real client, driven as a user would drive it, on loopback only, with DHT, LSD and PEX off. */
export interface Downloader {
  readonly name: string
  /** The client's own idea of its version, e.g. `aria2 1.36.0`. */
  version (): Promise<string>
  /**
   * Resolves once the whole torrent is on disk and the client has let go of it (stopped, files closed).
   * Rejects with a `ClientError` carrying the client's log tail on timeout or failure.
   */
  download (request: DownloadRequest): Promise<void>
}

export type ClientErrorCode =
  | 'ET_CLIENT_MISSING'
  | 'ET_CLIENT_FAILED'
  | 'ET_DOWNLOAD_TIMEOUT'
  | 'ET_BAD_REQUEST'

export class ClientError extends Error {
  readonly code: ClientErrorCode
  readonly client: string

  constructor (code: ClientErrorCode, client: string, message: string, options: { logTail?: string, cause?: unknown } = {}) {
    super(options.logTail === undefined ? `${client}: ${message}` : `${client}: ${message}\n--- ${client} log tail ---\n${options.logTail}`, { cause: options.cause })
    this.name = 'ClientError'
    this.code = code
    this.client = client
  }
}

/** The torrent argument of a request, checked: a client given both or neither would guess. */
export function sourceOf (client: string, request: DownloadRequest): { kind: 'torrent', path: string } | { kind: 'magnet', uri: string } {
  if (request.torrentFile !== undefined && request.magnet === undefined) return { kind: 'torrent', path: request.torrentFile }
  if (request.magnet !== undefined && request.torrentFile === undefined) return { kind: 'magnet', uri: request.magnet }
  throw new ClientError('ET_BAD_REQUEST', client, 'a download needs exactly one of torrentFile and magnet')
}
