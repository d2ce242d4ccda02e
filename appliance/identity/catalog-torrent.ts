import { createHash } from 'node:crypto'
import type { PublishedTorrent } from '../catalog/catalog.js'
import { buildMetainfo, type InfoHash, type Metainfo } from '../metainfo/metainfo.js'
import { pieceLengthFor } from '../metainfo/piece-length.js'

export interface CatalogTorrentOptions {
  /** The torrent's name (its one file's name). */
  readonly name: string
  /** Where the document's bytes are on disk, and how they looked once written (the seeder checks them on every open). */
  readonly file: { readonly absolutePath: string, readonly mtimeMs: number }
  readonly trackersFor: (infoHash: InfoHash) => Pick<Metainfo, 'announceList' | 'urlList'>
  readonly createdBy: string
}

/**
 * The catalog document as a single-file torrent, hashed here from the bytes in memory (at most a few
 * MB: no hashing threads for it). Marked `internal`: seeded and tracked, but no library item.
 */
export function catalogTorrent (bytes: Buffer, options: CatalogTorrentOptions): PublishedTorrent {
  const pieceLength = pieceLengthFor(bytes.length)
  const pieces = Buffer.alloc(Math.ceil(bytes.length / pieceLength) * 20)
  for (let offset = 0, index = 0; offset < bytes.length; offset += pieceLength, index++) {
    createHash('sha1').update(bytes.subarray(offset, offset + pieceLength)).digest().copy(pieces, index * 20)
  }
  const bare = buildMetainfo({ name: options.name, pieceLength, pieces, files: [{ path: [], length: bytes.length }], createdBy: options.createdBy })
  const metainfo = buildMetainfo({ name: options.name, pieceLength, pieces, files: [{ path: [], length: bytes.length }], createdBy: options.createdBy, ...options.trackersFor(bare.infoHash) })
  const { absolutePath, mtimeMs } = options.file
  return { metainfo, files: [{ absolutePath, size: bytes.length, mtimeMs }], internal: true }
}
