import { scanContent, type Content } from './content.js'
import { MetainfoError } from './errors.js'
import { buildMetainfo, type Metainfo, type TorrentExtras } from './metainfo.js'
import { inTreeOrder } from './piece-alignment.js'
import { hashPiecesFor, type HashPool, type HashProgress } from './piece-hasher.js'
import { isValidPieceLength, pieceLengthFor } from './piece-length.js'
import { isTorrentFormat, type TorrentFormat } from './torrent-format.js'

export interface CreateOptions extends TorrentExtras {
  /** Torrent name; default: the file or folder name. */
  readonly name?: string
  /** Default: `pieceLengthFor(total size)`. */
  readonly pieceLength?: number
  /** Default v1. Hybrid and v2 are read once too: SHA-1 and SHA-256 from the same read. */
  readonly format?: TorrentFormat
  readonly threads?: number
  /** See `ListOptions.blocking`: for a caller with nothing else to do. */
  readonly blockingScan?: boolean
  /** Threads kept between torrents (the service hashes many items); otherwise a pool is made for this one. */
  readonly pool?: HashPool
  readonly signal?: AbortSignal
  readonly onProgress?: (progress: HashProgress) => void
}

export interface CreatedTorrent {
  readonly metainfo: Metainfo
  /** `content.files.at(i)` holds the bytes of `metainfo.files.at(i)`: for hybrid and v2, in file tree order. */
  readonly content: Content
}

/** Scans and hashes `path` and describes it as a torrent. */
export async function createTorrent (path: string, options: CreateOptions = {}): Promise<CreatedTorrent> {
  checkOptions(options)
  return await createTorrentOf(await scanContent(path, { blocking: options.blockingScan === true }), options)
}

/** Hashes content already listed by `scanContent` and describes it as a torrent. */
export async function createTorrentOf (listed: Content, options: CreateOptions = {}): Promise<CreatedTorrent> {
  checkOptions(options)
  const format = options.format ?? 'v1'
  const content = format === 'v1' ? listed : { ...listed, files: inTreeOrder(listed.files) }
  const pieceLength = options.pieceLength ?? pieceLengthFor(content.totalBytes)
  const job = {
    pieceLength,
    format,
    ...(options.signal !== undefined && { signal: options.signal }),
    ...(options.onProgress !== undefined && { onProgress: options.onProgress })
  }
  const { pieces, pieceLayer } = options.pool !== undefined
    ? await options.pool.hashFor(content.files, job)
    : await hashPiecesFor(content.files, { ...job, ...(options.threads !== undefined && { threads: options.threads }) })
  const metainfo = buildMetainfo({
    name: options.name ?? content.name,
    pieceLength,
    format,
    pieces,
    ...(pieceLayer !== undefined && { pieceLayer }),
    files: content.files,
    announceList: options.announceList ?? [],
    urlList: options.urlList ?? [],
    private: options.private === true,
    ...(options.comment !== undefined && { comment: options.comment }),
    ...(options.source !== undefined && { source: options.source }),
    ...(options.createdBy !== undefined && { createdBy: options.createdBy }),
    ...(options.creationDate !== undefined && { creationDate: options.creationDate })
  })
  return { metainfo, content }
}

function checkOptions (options: CreateOptions): void {
  if (options.format !== undefined && !isTorrentFormat(options.format)) {
    throw new MetainfoError('ET_BAD_OPTION', `format "${String(options.format)}" is not one of v1, hybrid, v2`)
  }
  if (options.pieceLength !== undefined && !isValidPieceLength(options.pieceLength)) {
    throw new MetainfoError('ET_BAD_OPTION', `piece length ${options.pieceLength} is not a power of two between 16384 (16 KiB) and 16777216 (16 MiB)`)
  }
  if (options.name !== undefined && (options.name === '' || options.name.includes('/') || options.name === '.' || options.name === '..')) {
    throw new MetainfoError('ET_BAD_OPTION', `name "${options.name}" must be a plain file name without "/"`)
  }
  for (const url of [...(options.announceList ?? []).flat(), ...(options.urlList ?? [])]) {
    if (!URL.canParse(url)) throw new MetainfoError('ET_BAD_OPTION', `"${url}" is not a valid URL`)
  }
}
