/** One file of a torrent, as the rest of evertorrent reads it. */
export interface TorrentFileEntry {
  /** Path segments below the torrent's name; `[name]` for a single-file torrent. */
  readonly path: readonly string[]
  readonly length: number
  /** Byte offset of the file in the torrent's concatenated content. */
  readonly offset: number
}

const [LIST, DICT, END, INT, COLON] = [0x6c, 0x64, 0x65, 0x69, 0x3a]
const FILES_KEY = Buffer.from('files')
const LENGTH_KEY = Buffer.from('length')
const PATH_KEY = Buffer.from('path')
const ATTR_KEY = Buffer.from('attr')
const PAD_ATTRIBUTE = 0x70

/**
 * The files of a torrent, read where they stand in its info dictionary's bytes: per file only where
 * its path list starts, its length and its offset (20 bytes), the paths decoded when asked for. A
 * torrent of 100,000 files would otherwise keep 100,000 entries with their path arrays and strings
 * besides those bytes. `length`, `at` and iteration make it read like an array of entries.
 *
 * BEP 47 pad files (attribute `p`, hybrid torrents have them) are no entries: they hold no file's
 * bytes, only zeros in the piece space, so the files after them start further on (`offsetOf`) and
 * `totalBytes` counts them.
 *
 * The info dictionary must be checked bencoding with a valid `files` list or `length` (as
 * `buildMetainfo` writes it and `parseTorrent` accepts it): nothing is checked here.
 */
export class TorrentFiles implements Iterable<TorrentFileEntry> {
  readonly totalBytes: number

  private constructor (
    private readonly info: Buffer,
    private readonly name: string,
    /** Where each file's path list starts in `info`; undefined for a single-file torrent. */
    private readonly pathStarts: Uint32Array | undefined,
    private readonly lengths: Float64Array,
    private readonly offsets: Float64Array,
    totalBytes: number,
    /** The paths of a v2-only torrent's files, which have no v1 list to read them from. */
    private readonly treePaths?: ReadonlyArray<readonly string[]>
  ) {
    this.totalBytes = totalBytes
  }

  static fromInfo (info: Buffer, name: string): TorrentFiles {
    const files = valueOf(info, 0, FILES_KEY)
    if (files === undefined) {
      const length = readInteger(info, valueOf(info, 0, LENGTH_KEY)!)
      return new TorrentFiles(info, name, undefined, Float64Array.of(length), Float64Array.of(0), length)
    }
    let count = 0
    for (let position = files + 1; info[position] !== END; position = skipValue(info, position)) if (!isPadFile(info, position)) count++
    const pathStarts = new Uint32Array(count)
    const lengths = new Float64Array(count)
    const offsets = new Float64Array(count)
    let offset = 0
    let position = files + 1
    for (let index = 0; index < count; position = skipValue(info, position)) {
      const length = readInteger(info, valueOf(info, position, LENGTH_KEY)!)
      if (!isPadFile(info, position)) {
        pathStarts[index] = valueOf(info, position, PATH_KEY)!
        lengths[index] = length
        offsets[index] = offset
        index++
      }
      offset += length
    }
    // Pad files after the last file (hybrid torrents of several files end on a piece boundary).
    for (; info[position] !== END; position = skipValue(info, position)) offset += readInteger(info, valueOf(info, position, LENGTH_KEY)!)
    return new TorrentFiles(info, name, pathStarts, lengths, offsets, offset)
  }

  /**
   * The files of a v2-only torrent, from its file tree: `paths` below the name (`[]` for a single
   * file), each starting on a piece boundary (`starts`, see `pieceAlignedLayout`).
   */
  static fromTree (info: Buffer, name: string, paths: ReadonlyArray<readonly string[]>, sizes: Float64Array, starts: Float64Array, totalBytes: number): TorrentFiles {
    const single = paths.length === 1 && paths[0]!.length === 0
    return new TorrentFiles(info, name, single ? undefined : new Uint32Array(paths.length), sizes, starts, totalBytes, single ? undefined : paths)
  }

  get length (): number {
    return this.lengths.length
  }

  get isMultiFile (): boolean {
    return this.pathStarts !== undefined
  }

  lengthOf (index: number): number {
    return this.lengths[index]!
  }

  offsetOf (index: number): number {
    return this.offsets[index]!
  }

  /** Path segments below the torrent's name; `[name]` for a single-file torrent. */
  pathOf (index: number): string[] {
    if (this.pathStarts === undefined) return [this.name]
    if (this.treePaths !== undefined) return [...this.treePaths[index]!]
    const segments: string[] = []
    let position = this.pathStarts[index]! + 1
    while (this.info[position] !== END) {
      const start = stringStart(this.info, position)
      position = start + stringLength
      segments.push(this.info.toString('utf8', start, position))
    }
    return segments
  }

  /** Entry `index`, made on each call: for reading, not for keeping. */
  at (index: number): TorrentFileEntry | undefined {
    if (index < 0 || index >= this.length) return undefined
    return { path: this.pathOf(index), length: this.lengths[index]!, offset: this.offsets[index]! }
  }

  * [Symbol.iterator] (): Iterator<TorrentFileEntry> {
    for (let index = 0; index < this.length; index++) yield this.at(index)!
  }
}

/*
 * The scanning below reads digits byte by byte: `Buffer.indexOf` and `toString` cost a call into
 * C++ each, which for 100,000 files was most of a second.
 */

/** Where the value of `key` starts in the dictionary at `dictionary`, if it has that key. */
function valueOf (data: Buffer, dictionary: number, key: Buffer): number | undefined {
  let position = dictionary + 1
  while (data[position] !== END) {
    const keyStart = stringStart(data, position)
    const keyEnd = keyStart + stringLength
    if (stringLength === key.length && sameBytes(data, keyStart, key)) return keyEnd
    position = skipValue(data, keyEnd)
  }
  return undefined
}

function sameBytes (data: Buffer, at: number, key: Buffer): boolean {
  for (let index = 0; index < key.length; index++) if (data[at + index] !== key[index]) return false
  return true
}

/** Whether the `files` entry at `position` is a BEP 47 pad file (its `attr` holds `p`). */
function isPadFile (data: Buffer, position: number): boolean {
  const attr = valueOf(data, position, ATTR_KEY)
  if (attr === undefined || data[attr] === LIST || data[attr] === DICT || data[attr] === INT) return false
  const start = stringStart(data, attr)
  return data.subarray(start, start + stringLength).includes(PAD_ATTRIBUTE)
}

/** The length of the string `stringStart` read last (a second result, without an object per call). */
let stringLength = 0

/** Where the bytes of the string at `position` start; sets `stringLength`. */
function stringStart (data: Buffer, position: number): number {
  let length = 0
  let byte = data[position]!
  while (byte !== COLON) {
    length = length * 10 + byte - 0x30
    byte = data[++position]!
  }
  stringLength = length
  return position + 1
}

function readInteger (data: Buffer, position: number): number {
  let value = 0
  for (let at = position + 1; data[at] !== END; at++) value = value * 10 + data[at]! - 0x30
  return value
}

/** One past the value at `position`; iterative, so deep nesting (in a key nobody reads) costs no stack. */
function skipValue (data: Buffer, position: number): number {
  let depth = 0
  do {
    const byte = data[position]
    if (byte === LIST || byte === DICT) {
      depth++
      position++
    } else if (byte === END) {
      depth--
      position++
    } else if (byte === INT) {
      while (data[position] !== END) position++
      position++
    } else {
      position = stringStart(data, position) + stringLength
    }
  } while (depth > 0)
  return position
}
