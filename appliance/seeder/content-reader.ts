import type { PublishedTorrent } from '../catalog/catalog.js'
import { BlockCache } from './block-cache.js'
import { fileRangesFor } from './file-ranges.js'
import { FileHandleCache, type OpenFile } from './file-handle-cache.js'

export interface ContentReaderOptions {
  /** Byte budget of the read-ahead cache shared by all torrents. */
  readonly cacheBytes: number
  /** Bytes read from disk at once (capped at the piece length); a power of two. */
  readonly readAheadBytes: number
  readonly maxOpenFiles: number
  readonly openFile?: OpenFile
}

/**
 * Reads blocks of published torrents: in read-ahead spans aligned in the torrent's content (so a
 * span never crosses a piece boundary), through a bounded cache and a bounded pool of open files.
 * Nothing is kept per torrent beyond the spans in the cache.
 */
export class ContentReader {
  private readonly cache: BlockCache
  private readonly files: FileHandleCache
  private readonly readAheadBytes: number
  private readonly inFlight = new Map<string, Promise<Buffer>>()

  constructor (options: ContentReaderOptions) {
    this.cache = new BlockCache(options.cacheBytes)
    this.files = new FileHandleCache(options.maxOpenFiles, options.openFile)
    this.readAheadBytes = options.readAheadBytes
  }

  /** Bytes held by the read-ahead cache. */
  get cachedBytes (): number {
    return this.cache.size
  }

  get openFiles (): number {
    return this.files.openCount
  }

  /** The block `length` bytes at `offset` of piece `index`, which must lie within the piece. Throws torrent errors. */
  async readBlock (torrent: PublishedTorrent, index: number, offset: number, length: number): Promise<Buffer> {
    const { metainfo } = torrent
    const spanBytes = Math.min(this.readAheadBytes, metainfo.pieceLength)
    const start = index * metainfo.pieceLength + offset
    const end = start + length
    const first = Math.floor(start / spanBytes)
    const last = Math.floor((end - 1) / spanBytes)
    if (first === last) {
      const span = await this.span(torrent, first, spanBytes)
      return span.subarray(start - first * spanBytes, end - first * spanBytes)
    }
    const parts: Buffer[] = []
    for (let spanIndex = first; spanIndex <= last; spanIndex++) {
      const span = await this.span(torrent, spanIndex, spanBytes)
      const spanStart = spanIndex * spanBytes
      parts.push(span.subarray(Math.max(start, spanStart) - spanStart, Math.min(end, spanStart + span.length) - spanStart))
    }
    return Buffer.concat(parts, length)
  }

  /** Drops the cached spans and open files of a torrent that changed or went away. */
  forget (torrent: PublishedTorrent): void {
    this.cache.forget(torrent.metainfo.infoHash)
    this.files.forget(torrent.files.map((file) => file.absolutePath))
  }

  async close (): Promise<void> {
    await Promise.allSettled(this.inFlight.values())
    await this.files.close()
  }

  private async span (torrent: PublishedTorrent, spanIndex: number, spanBytes: number): Promise<Buffer> {
    const owner = torrent.metainfo.infoHash
    const key = `${spanBytes}:${spanIndex}`
    const cached = this.cache.get(owner, key)
    if (cached !== undefined) return cached
    const id = `${owner}/${key}`
    let pending = this.inFlight.get(id)
    if (pending === undefined) {
      pending = this.readSpan(torrent, spanIndex, spanBytes)
      this.inFlight.set(id, pending)
      pending.then((bytes) => this.cache.set(owner, key, bytes), () => {}).finally(() => this.inFlight.delete(id)).catch(() => {})
    }
    return await pending
  }

  private async readSpan (torrent: PublishedTorrent, spanIndex: number, spanBytes: number): Promise<Buffer> {
    const start = spanIndex * spanBytes
    const length = Math.min(spanBytes, torrent.metainfo.totalBytes - start)
    const bytes = Buffer.allocUnsafeSlow(length)
    for (const range of fileRangesFor(torrent.metainfo.files, start, length)) {
      await this.files.read(torrent.files[range.fileIndex]!, bytes, range.spanOffset, range.length, range.fileOffset)
    }
    return bytes
  }
}
