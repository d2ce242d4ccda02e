import { readFile } from 'node:fs/promises'
import { writeFileAtomic } from '../platform/atomic-write.js'

/** Boxes remembered at most: a follower follows a handful; a longer file is refused. */
export const MAX_SEEN_POINTERS = 1000
const MAX_SEEN_FILE_BYTES = 128 * 1024
const HEX_KEY = /^[0-9a-f]{64}$/

/**
 * A follower's record of the highest BEP 46 sequence number it has believed for each box (public
 * key, hex), kept in a state file so that a restart never takes a replayed older item for news.
 */
export class SeenPointers {
  private readonly seqs = new Map<string, number>()

  private constructor (private readonly file: string) {}

  /** The record in `file`; an empty one when there is none. A damaged file is an error: forgetting it would let a replay in. */
  static async open (file: string): Promise<SeenPointers> {
    const seen = new SeenPointers(file)
    let bytes: Buffer
    try {
      bytes = await readFile(file)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return seen
      throw error
    }
    const refused = bytes.length > MAX_SEEN_FILE_BYTES ? `larger than ${MAX_SEEN_FILE_BYTES} bytes` : seen.load(bytes.toString('utf8'))
    if (refused !== undefined) throw Object.assign(new Error(`${file} is damaged (${refused}); delete it to trust the DHT's current items again`), { code: 'ET_SEEN_POINTERS', path: file })
    return seen
  }

  /** The highest seq believed for `publicKeyHex`, if any. */
  lastSeq (publicKeyHex: string): number | undefined {
    return this.seqs.get(publicKeyHex)
  }

  /** Records `seq` as believed (a lower one than before changes nothing), and saves. */
  async remember (publicKeyHex: string, seq: number): Promise<void> {
    if (!HEX_KEY.test(publicKeyHex)) throw new RangeError(`"${publicKeyHex}" is not a public key (64 hex digits)`)
    const before = this.seqs.get(publicKeyHex)
    if (before !== undefined && before >= seq) return
    if (before === undefined && this.seqs.size >= MAX_SEEN_POINTERS) throw new RangeError(`at most ${MAX_SEEN_POINTERS} boxes are followed`)
    this.seqs.set(publicKeyHex, seq)
    await writeFileAtomic(this.file, `${JSON.stringify({ version: 1, seqs: Object.fromEntries(this.seqs) })}\n`)
  }

  private load (text: string): string | undefined {
    let file: { version?: unknown, seqs?: unknown }
    try {
      file = JSON.parse(text) as typeof file
    } catch {
      return 'not JSON'
    }
    if (typeof file !== 'object' || file === null || file.version !== 1 || typeof file.seqs !== 'object' || file.seqs === null) return 'not {"version": 1, "seqs": {…}}'
    const entries = Object.entries(file.seqs)
    if (entries.length > MAX_SEEN_POINTERS) return `more than ${MAX_SEEN_POINTERS} boxes`
    for (const [key, seq] of entries) {
      if (!HEX_KEY.test(key) || typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) return `entry "${key}" is not <64 hex>: <seq>`
      this.seqs.set(key, seq)
    }
    return undefined
  }
}
