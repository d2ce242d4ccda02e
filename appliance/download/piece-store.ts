import { createHash } from 'node:crypto'
import type { Metainfo } from '../metainfo/metainfo.js'
import { fileRangesFor } from '../seeder/file-ranges.js'
import type { ContentLayout } from './content-layout.js'
import { BLOCK_SIZE } from './piece-picker.js'
import type { SafeFolder } from './safe-folder.js'

/**
 * The torrent's content on disk, by piece: blocks are written where they belong as they arrive (pad
 * files skipped), and a piece is verified by reading it back and comparing its SHA-1 with the
 * metainfo's, so no piece is held in memory longer than its check.
 */
export class PieceStore {
  constructor (private readonly metainfo: Metainfo, private readonly layout: ContentLayout, private readonly folder: SafeFolder) {}

  pieceLengthOf (index: number): number {
    const { pieceLength, totalBytes } = this.metainfo
    return Math.min(pieceLength, totalBytes - index * pieceLength)
  }

  async writeBlock (piece: number, offset: number, bytes: Uint8Array): Promise<void> {
    const start = piece * this.metainfo.pieceLength + offset
    for (const range of fileRangesFor(this.layout, start, bytes.length)) {
      if (this.layout.files[range.fileIndex]!.pad) continue
      await this.folder.write(range.fileIndex, range.fileOffset, bytes.subarray(range.spanOffset, range.spanOffset + range.length))
    }
  }

  /**
   * Reads piece `index` back from disk, a few blocks at a time, and checks its SHA-1; with
   * `blockDigests`, also the SHA-1 of each 16 KiB block (to tell, once the piece is good, which peer's
   * blocks made it bad before). A piece of 16 MiB costs no more memory to check than one of 16 KiB.
   */
  async verify (index: number, blockDigests = false): Promise<PieceCheck> {
    const length = this.pieceLengthOf(index)
    const pieceHash = createHash('sha1')
    const digests = blockDigests ? Buffer.alloc(Math.ceil(length / BLOCK_SIZE) * 20) : undefined
    const chunk = Buffer.allocUnsafe(Math.min(READ_CHUNK, length))
    for (let at = 0; at < length; at += READ_CHUNK) {
      const bytes = chunk.subarray(0, Math.min(READ_CHUNK, length - at))
      await this.read(index * this.metainfo.pieceLength + at, bytes)
      pieceHash.update(bytes)
      if (digests === undefined) continue
      for (let block = 0; block < bytes.length; block += BLOCK_SIZE) {
        createHash('sha1').update(bytes.subarray(block, block + BLOCK_SIZE)).digest().copy(digests, ((at + block) / BLOCK_SIZE) * 20)
      }
    }
    const ok = pieceHash.digest().equals(this.metainfo.pieces.subarray(index * 20, index * 20 + 20))
    return digests === undefined ? { ok } : { ok, blockDigests: digests }
  }

  /** Fills `into` with the content at `offset` (pad files read as zeros). */
  private async read (offset: number, into: Buffer): Promise<void> {
    for (const range of fileRangesFor(this.layout, offset, into.length)) {
      if (this.layout.files[range.fileIndex]!.pad) into.fill(0, range.spanOffset, range.spanOffset + range.length)
      else await this.folder.read(range.fileIndex, range.fileOffset, range.length, into, range.spanOffset)
    }
  }
}

/** Bytes read at once to check a piece: a whole number of blocks. */
const READ_CHUNK = 8 * BLOCK_SIZE

export interface PieceCheck {
  readonly ok: boolean
  /** 20 bytes per block, when asked for. */
  readonly blockDigests?: Buffer
}
