import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import type { InfoHash } from '../metainfo/metainfo.js'
import { writeFileAtomic } from '../platform/atomic-write.js'

/** `ETRESUME1\n`, the infohash (20 bytes), the piece count (u32), the verified bitfield, then SHA-256 of all that. */
const MAGIC = Buffer.from('ETRESUME1\n', 'latin1')
const DIGEST_BYTES = 32

/** The pieces of one download known verified on disk, as written by `encodeResume`. */
export function encodeResume (infoHash: InfoHash, pieceCount: number, bitfield: Uint8Array): Buffer {
  const count = Buffer.alloc(4)
  count.writeUInt32BE(pieceCount)
  const body = Buffer.concat([MAGIC, Buffer.from(infoHash, 'hex'), count, bitfield])
  return Buffer.concat([body, createHash('sha256').update(body).digest()])
}

/**
 * The bitfield recorded for this torrent, or undefined when `bytes` is not a whole state file of it:
 * a torn, truncated, foreign or tampered file counts as no record (the digest covers every byte).
 */
export function decodeResume (bytes: Uint8Array, infoHash: InfoHash, pieceCount: number): Uint8Array | undefined {
  const bitfieldBytes = Math.ceil(pieceCount / 8)
  const bodyBytes = MAGIC.length + 20 + 4 + bitfieldBytes
  if (bytes.length !== bodyBytes + DIGEST_BYTES) return undefined
  const file = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length)
  const body = file.subarray(0, bodyBytes)
  if (!createHash('sha256').update(body).digest().equals(file.subarray(bodyBytes))) return undefined
  if (!body.subarray(0, MAGIC.length).equals(MAGIC)) return undefined
  if (body.toString('hex', MAGIC.length, MAGIC.length + 20) !== infoHash) return undefined
  if (body.readUInt32BE(MAGIC.length + 20) !== pieceCount) return undefined
  return Uint8Array.from(body.subarray(MAGIC.length + 24))
}

/** Reads and writes one download's state file (written atomically: temp file, fsync, rename). */
export class ResumeFile {
  constructor (private readonly path: string, private readonly infoHash: InfoHash, private readonly pieceCount: number) {}

  /** The recorded bitfield; undefined when there is no valid record (none, torn, or of another torrent). */
  async load (): Promise<Uint8Array | undefined> {
    const bytes = await readFile(this.path).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined
      throw error
    })
    return bytes === undefined ? undefined : decodeResume(bytes, this.infoHash, this.pieceCount)
  }

  async save (bitfield: Uint8Array): Promise<void> {
    await writeFileAtomic(this.path, encodeResume(this.infoHash, this.pieceCount, bitfield))
  }
}
