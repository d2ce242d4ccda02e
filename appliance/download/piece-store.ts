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
   * Reads piece `index` back from disk and checks its SHA-1; with `blockDigests`, also the SHA-1 of
   * each 16 KiB block (to tell, once the piece is good, which peer's blocks made it bad before).
   */
  async verify (index: number, blockDigests = false): Promise<PieceCheck> {
    const length = this.pieceLengthOf(index)
    const bytes = Buffer.allocUnsafe(length)
    for (const range of fileRangesFor(this.layout, index * this.metainfo.pieceLength, length)) {
      if (this.layout.files[range.fileIndex]!.pad) bytes.fill(0, range.spanOffset, range.spanOffset + range.length)
      else await this.folder.read(range.fileIndex, range.fileOffset, range.length, bytes, range.spanOffset)
    }
    const digest = createHash('sha1').update(bytes).digest()
    const ok = digest.equals(this.metainfo.pieces.subarray(index * 20, index * 20 + 20))
    return blockDigests ? { ok, blockDigests: digestsOf(bytes) } : { ok }
  }
}

export interface PieceCheck {
  readonly ok: boolean
  /** 20 bytes per block, when asked for. */
  readonly blockDigests?: Buffer
}

function digestsOf (piece: Buffer): Buffer {
  const blocks = Math.ceil(piece.length / BLOCK_SIZE)
  const digests = Buffer.alloc(blocks * 20)
  for (let block = 0; block < blocks; block++) {
    createHash('sha1').update(piece.subarray(block * BLOCK_SIZE, (block + 1) * BLOCK_SIZE)).digest().copy(digests, block * 20)
  }
  return digests
}
