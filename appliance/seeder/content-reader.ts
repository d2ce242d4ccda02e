import type { PublishedTorrent } from '../catalog/catalog.js'
import { BlockCache } from './block-cache.js'
import { fileRangesFor } from './file-ranges.js'
import { FileHandleCache, type OpenFile } from './file-handle-cache.js'
import { MAX_BLOCK_LENGTH } from './piece-request.js'

/**
 * Spans a cache holds at the least: the peers in the upload slots (8 and an optimistic one by
 * default) each read one or two at a time, and a span evicted before they are done is read again.
 */
export const MIN_CACHED_SPANS = 16

/**
 * The read-ahead for a cache of `cacheBytes`: `wantedBytes` (a power of two), or the largest power of
 * two, a block at the least, that lets the cache hold MIN_CACHED_SPANS spans.
 */
export function readAheadFor (wantedBytes: number, cacheBytes: number): number {
  const fits = Math.max(MAX_BLOCK_LENGTH, cacheBytes / MIN_CACHED_SPANS)
  return Math.min(wantedBytes, 2 ** Math.floor(Math.log2(fits)))
}

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

  /**
   * Fills `block` with the bytes at `offset` of piece `index`; the block must lie within the piece.
   * Throws torrent errors. The bytes are copied out of the cached spans, which are read into again
   * once evicted (see BlockCache), so a block queued on a slow socket holds its own bytes, not a span.
   */
  async readBlock (torrent: PublishedTorrent, index: number, offset: number, block: Buffer): Promise<void> {
    const { metainfo } = torrent
    const spanBytes = this.spanBytesOf(torrent)
    const start = index * metainfo.pieceLength + offset
    const end = start + block.length
    for (let spanIndex = Math.floor(start / spanBytes); spanIndex * spanBytes < end; spanIndex++) {
      const span = this.cache.get(metainfo.infoHash, `${spanBytes}:${spanIndex}`) ?? await this.readSpanOnce(torrent, spanIndex, spanBytes)
      // In the same turn as the span was found or read: later, once evicted, it may be read into again.
      copyFromSpan(span, spanIndex * spanBytes, block, start)
    }
  }

  /**
   * Fills `block` as `readBlock` does, at once, when every span it lies in is cached: true. False
   * when one is not (`block` may then hold some of its bytes): read it with `readBlock`. Serving a
   * cached block takes no promise and no turn of the event loop.
   */
  copyCachedBlock (torrent: PublishedTorrent, index: number, offset: number, block: Buffer): boolean {
    const { metainfo } = torrent
    const spanBytes = this.spanBytesOf(torrent)
    const start = index * metainfo.pieceLength + offset
    const end = start + block.length
    for (let spanIndex = Math.floor(start / spanBytes); spanIndex * spanBytes < end; spanIndex++) {
      const span = this.cache.get(metainfo.infoHash, `${spanBytes}:${spanIndex}`)
      if (span === undefined) return false
      copyFromSpan(span, spanIndex * spanBytes, block, start)
    }
    return true
  }

  /** Drops the cached spans and open files of a torrent that changed or went away. */
  forget (torrent: PublishedTorrent): void {
    this.cache.forget(torrent.metainfo.infoHash)
    this.files.forget(Array.from(torrent.files, (file) => file.absolutePath))
  }

  async close (): Promise<void> {
    await Promise.allSettled(this.inFlight.values())
    await this.files.close()
  }

  /** Spans are aligned on multiples of this length, which divides the piece length: a span lies within a piece. */
  private spanBytesOf (torrent: PublishedTorrent): number {
    return Math.min(this.readAheadBytes, torrent.metainfo.pieceLength)
  }

  /** Reads a span that is not cached, once for all who ask for it meanwhile, and caches it. */
  private async readSpanOnce (torrent: PublishedTorrent, spanIndex: number, spanBytes: number): Promise<Buffer> {
    const owner = torrent.metainfo.infoHash
    const key = `${spanBytes}:${spanIndex}`
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
    // Every span of this size in the same memory size, the torrent's shorter last one too, so that it is reused.
    const bytes = this.cache.allocate(spanBytes).subarray(0, length)
    // Bytes of no file are the pad bytes of a hybrid or v2 torrent (BEP 47): zeros, hashed as such. The
    // memory is reused, so they are written, not assumed.
    let filled = 0
    for (const range of fileRangesFor(torrent.metainfo.files, start, length)) {
      bytes.fill(0, filled, range.spanOffset)
      await this.files.read(torrent.files.at(range.fileIndex)!, bytes, range.spanOffset, range.length, range.fileOffset)
      filled = range.spanOffset + range.length
    }
    bytes.fill(0, filled)
    return bytes
  }
}

/** Copies into `block`, which starts at byte `start` of the torrent, the bytes it shares with `span`, which starts at `spanStart`. */
function copyFromSpan (span: Buffer, spanStart: number, block: Buffer, start: number): void {
  const from = Math.max(start, spanStart)
  span.copy(block, from - start, from - spanStart, Math.min(start + block.length, spanStart + span.length) - spanStart)
}
