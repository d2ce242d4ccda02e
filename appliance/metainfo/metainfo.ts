import { createHash } from 'node:crypto'
import bencode from 'bencode'
import { dictionaryEntries, endOfValue, withEntry, withEntryParts, type DictionaryEntry } from './bencode-span.js'
import { MetainfoError } from './errors.js'
import { FileListing } from './file-listing.js'
import { fileTreesOf, type FileTrees } from './file-trees.js'
import { HASH_BYTES } from './merkle.js'
import { padBytesAfter, pieceAlignedLayout, type PieceAlignedLayout } from './piece-alignment.js'
import { isValidPieceLength } from './piece-length.js'
import { TorrentFiles } from './torrent-files.js'
import { hasV2, type TorrentFormat } from './torrent-format.js'
import { parseV2Parts, type V2Parts } from './v2-parse.js'

export { TorrentFiles, type TorrentFileEntry } from './torrent-files.js'

/**
 * Hex SHA-1 of the bencoded info dictionary (BEP 3), lower case; for a v2-only torrent, the first 20
 * bytes of its SHA-256 (BEP 52: what trackers, the DHT and the handshake carry).
 */
export type InfoHash = string & { readonly __brand: 'InfoHash' }

/** Hex SHA-256 of the bencoded info dictionary of a hybrid or v2 torrent (BEP 52), lower case. */
export type InfoHashV2 = string & { readonly __brand: 'InfoHashV2' }

/** BEP 52: a v2 infohash truncated to 20 bytes, as trackers, the DHT and v1-sized handshakes carry it. */
export function truncatedInfoHash (infoHashV2: InfoHashV2): InfoHash {
  return infoHashV2.slice(0, 40) as InfoHash
}

/** A torrent as the rest of evertorrent sees it; built by `buildMetainfo`, read back by `parseTorrent`. */
export interface Metainfo {
  readonly infoHash: InfoHash
  readonly format: TorrentFormat
  /** Hybrid and v2. */
  readonly infoHashV2?: InfoHashV2
  /** Hybrid and v2: each file's `pieces root`, 32 bytes per file of `files`; zeros for an empty file. */
  readonly piecesRoots?: Buffer
  /** Hybrid and v2: the `piece layers` (outside the info dictionary), by hex pieces root, for files larger than a piece. */
  readonly pieceLayers?: ReadonlyMap<string, Buffer>
  readonly name: string
  readonly pieceLength: number
  readonly pieceCount: number
  /** The piece space: the files' bytes, and in hybrid and v2 torrents the pad bytes that align them on pieces. */
  readonly totalBytes: number
  readonly files: TorrentFiles
  readonly isMultiFile: boolean
  /** BEP 12 tiers; the first URL of the first tier is also written as `announce`. */
  readonly announceList: ReadonlyArray<readonly string[]>
  /** BEP 19 web seeds. */
  readonly urlList: readonly string[]
  /** BEP 27. */
  readonly private: boolean
  readonly comment?: string
  readonly source?: string
  readonly createdBy?: string
  readonly creationDate?: number
  /** The bencoded info dictionary, as hashed and as sent to peers by BEP 9. */
  readonly infoBytes: Buffer
  /** SHA-1 digests (BEP 3); empty for a v2-only torrent. */
  readonly pieces: Buffer
}

/** What a torrent says besides its content: trackers, web seeds and the fields a creator adds. */
export interface TorrentExtras {
  /** BEP 12 tiers of announce URLs. */
  readonly announceList?: ReadonlyArray<readonly string[]>
  readonly urlList?: readonly string[]
  readonly private?: boolean
  readonly comment?: string
  readonly source?: string
  readonly createdBy?: string
  /** Seconds since the epoch; left out when undefined. It is outside the info dictionary, so it never changes the infohash. */
  readonly creationDate?: number
}

export interface MetainfoFields extends TorrentExtras {
  readonly name: string
  readonly pieceLength: number
  /** Default v1; hybrid and v2 need `files` as a listing in file tree order (`inTreeOrder`) and `pieceLayer`. */
  readonly format?: TorrentFormat
  readonly pieces: Buffer
  /** Hybrid and v2: the hasher's `pieceLayer` (see `HashedPieces`). */
  readonly pieceLayer?: Buffer
  /** Empty `path` means a single-file torrent; a listing of a single file (`segments(0)` empty) too. */
  readonly files: FileListing | ReadonlyArray<{ readonly path: readonly string[], readonly length: number }>
}

export function buildMetainfo (fields: MetainfoFields): Metainfo {
  const format = fields.format ?? 'v1'
  if (!hasV2(format)) return describe(encodeInfo(fields), fields)
  const { files, pieceLayer } = fields
  if (!(files instanceof FileListing) || pieceLayer === undefined) throw new TypeError('a hybrid or v2 torrent is built from a file listing and its piece layer')
  const layout = pieceAlignedLayout(files.data.sizes, fields.pieceLength)
  const trees = fileTreesOf(files.data.sizes, fields.pieceLength, pieceLayer)
  const infoBytes = encodeInfo(fields, { format, files, layout, trees })
  return describe(infoBytes, fields, {
    format,
    roots: trees.roots,
    layers: trees.layers,
    ...(format === 'v2' && { files: v2OnlyFiles(infoBytes, fields.name, files, layout) })
  })
}

function v2OnlyFiles (infoBytes: Buffer, name: string, files: FileListing, layout: PieceAlignedLayout): TorrentFiles {
  const paths = Array.from({ length: files.length }, (_, index) => files.segments(index))
  return TorrentFiles.fromTree(infoBytes, name, paths, Float64Array.from(files.data.sizes), layout.starts, layout.totalBytes)
}

/** What a hybrid or v2 info dictionary is written from besides the v1 fields. */
interface TreeFields {
  readonly format: TorrentFormat
  readonly files: FileListing
  readonly layout: PieceAlignedLayout
  readonly trees: FileTrees
}

function isSingleFile (files: MetainfoFields['files']): boolean {
  if (files.length !== 1) return false
  return files instanceof FileListing ? files.relativePathBytes(0).length === 0 : files[0]!.path.length === 0
}

/**
 * The info dictionary (BEP 3), its keys in sorted order, written straight into one buffer of its
 * size: bencode@4 allocates a buffer per value (for 5,000 files, 35 ms and 11 MB of heap), and for
 * 100,000 files every copy of the dictionary is 5 MB more at the peak. A listing's paths are copied
 * byte for byte, each `/` ending a segment.
 */
function encodeInfo (fields: MetainfoFields, tree?: TreeFields): Buffer {
  const size = new ByteCounter()
  writeInfo(fields, size, tree)
  const writer = new BufferWriter(size.total)
  writeInfo(fields, writer, tree)
  return writer.buffer
}

/**
 * Written twice: once to count its bytes, once into a buffer of that size. Hybrid and v2 keys as
 * libtorrent 2.0.8 writes them: `file tree`, the v1 file list with its pad files (hybrid),
 * `meta version`, and no `pieces` in a v2-only torrent.
 */
function writeInfo (fields: MetainfoFields, writer: Writer, tree?: TreeFields): void {
  const { files } = fields
  writer.text('d')
  if (tree !== undefined) {
    writer.text('9:file tree')
    writeFileTree(tree.files, fields.name, tree.trees.roots, writer)
  }
  if (tree?.format === 'v2') {
    // No v1 part.
  } else if (isSingleFile(files)) {
    writer.text(`6:lengthi${files instanceof FileListing ? files.size(0) : files[0]!.length}e`)
  } else {
    writer.text('5:files')
    if (files instanceof FileListing) {
      writer.listing(files, tree?.layout)
    } else {
      writer.text('l')
      for (const file of files) {
        writer.text(`d6:lengthi${file.length}e4:pathl`)
        for (const segment of file.path) writer.string(segment)
        writer.text('ee')
      }
      writer.text('e')
    }
  }
  if (tree !== undefined) writer.text('12:meta versioni2e')
  writer.text('4:name')
  writer.string(fields.name)
  writer.text(`12:piece lengthi${fields.pieceLength}e`)
  if (tree?.format !== 'v2') {
    writer.text(`6:pieces${fields.pieces.length}:`)
    writer.bytes(fields.pieces)
  }
  if (fields.private === true) writer.text('7:privatei1e')
  if (fields.source !== undefined) {
    writer.text('6:source')
    writer.string(fields.source)
  }
  writer.text('e')
}

interface Writer {
  text (value: string): void
  /** A bencoded string: its byte length, a colon, its UTF-8 bytes. */
  string (value: string): void
  bytes (value: Uint8Array): void
  /** The `files` list of a listing, each `/` of a path ending a segment; with `layout`, pad files where it has pad bytes. */
  listing (files: FileListing, layout?: PieceAlignedLayout): void
}

/**
 * A BEP 52 `file tree` of `files` (in file tree order, so each folder's keys come sorted): nested
 * dictionaries of path segments, each file a dictionary under the empty key with its length and,
 * unless empty, its pieces root. A single file sits under the torrent's name.
 */
function writeFileTree (files: FileListing, name: string, roots: Buffer, writer: Writer): void {
  const writeFile = (index: number): void => {
    writer.text(`d0:d6:lengthi${files.size(index)}e`)
    if (files.size(index) > 0) {
      writer.text('11:pieces root32:')
      writer.bytes(roots.subarray(index * HASH_BYTES, (index + 1) * HASH_BYTES))
    }
    writer.text('ee')
  }
  writer.text('d')
  if (files.length === 1 && files.relativePathBytes(0).length === 0) {
    writer.string(name)
    writeFile(0)
    writer.text('e')
    return
  }
  let open: string[] = []
  for (let index = 0; index < files.length; index++) {
    const segments = files.segments(index)
    const folders = segments.slice(0, -1)
    let shared = 0
    while (shared < open.length && shared < folders.length && open[shared] === folders[shared]) shared++
    for (let depth = open.length; depth > shared; depth--) writer.text('e')
    for (let depth = shared; depth < folders.length; depth++) {
      writer.string(folders[depth]!)
      writer.text('d')
    }
    open = folders
    writer.string(segments.at(-1)!)
    writeFile(index)
  }
  for (let depth = open.length; depth >= 0; depth--) writer.text('e')
}

/*
 * A listing's file list is counted and written byte by byte, without a string or a view per file:
 * for 100,000 files, a `Buffer.write` and a `subarray` per segment took half a second.
 */
const FILE_HEAD = Buffer.from('d6:lengthi')
const PATH_HEAD = Buffer.from('e4:pathl')

/** BEP 47 pad file of `bytes` bytes, as libtorrent 2.0 names it: `.pad/<bytes>`, attribute `p`. */
function padEntry (bytes: number): Buffer {
  return Buffer.from(`d4:attr1:p6:lengthi${bytes}e4:pathl4:.pad${String(bytes).length}:${bytes}ee`)
}
const [DIGIT_0, COLON, SLASH, LIST, END] = [0x30, 0x3a, 0x2f, 0x6c, 0x65]

function digitCount (value: number): number {
  let count = 1
  while (value >= 10) {
    value = Math.floor(value / 10)
    count++
  }
  return count
}

function listingBytes (files: FileListing, layout?: PieceAlignedLayout): number {
  const { paths, pathEnds, sizes } = files.data
  let total = 2
  let start = 0
  for (let index = 0; index < pathEnds.length; index++) {
    const end = pathEnds[index]!
    const pad = layout === undefined ? 0 : padBytesAfter(layout, sizes, index)
    if (pad > 0) total += padEntry(pad).length
    total += FILE_HEAD.length + digitCount(sizes[index]!) + PATH_HEAD.length + 2
    let segmentStart = start
    for (let at = start; at <= end; at++) {
      if (at < end && paths[at] !== SLASH) continue
      total += digitCount(at - segmentStart) + 1 + at - segmentStart
      segmentStart = at + 1
    }
    start = end
  }
  return total
}

class ByteCounter implements Writer {
  total = 0

  text (value: string): void {
    this.total += Buffer.byteLength(value)
  }

  string (value: string): void {
    const length = Buffer.byteLength(value)
    this.total += String(length).length + 1 + length
  }

  bytes (value: Uint8Array): void {
    this.total += value.length
  }

  listing (files: FileListing, layout?: PieceAlignedLayout): void {
    this.total += listingBytes(files, layout)
  }
}

class BufferWriter implements Writer {
  readonly buffer: Buffer
  private used = 0

  constructor (size: number) {
    this.buffer = Buffer.allocUnsafeSlow(size)
  }

  text (value: string): void {
    this.used += this.buffer.write(value, this.used)
  }

  string (value: string): void {
    this.text(`${Buffer.byteLength(value)}:`)
    this.text(value)
  }

  bytes (value: Uint8Array): void {
    this.buffer.set(value, this.used)
    this.used += value.length
  }

  listing (files: FileListing, layout?: PieceAlignedLayout): void {
    const { paths, pathEnds, sizes } = files.data
    const out = this.buffer
    let used = this.used
    out[used++] = LIST
    let start = 0
    for (let index = 0; index < pathEnds.length; index++) {
      const end = pathEnds[index]!
      out.set(FILE_HEAD, used)
      used = writeDigits(out, used + FILE_HEAD.length, sizes[index]!)
      out.set(PATH_HEAD, used)
      used += PATH_HEAD.length
      let segmentStart = start
      for (let at = start; at <= end; at++) {
        if (at < end && paths[at] !== SLASH) continue
        used = writeDigits(out, used, at - segmentStart)
        out[used++] = COLON
        for (let from = segmentStart; from < at; from++) out[used++] = paths[from]!
        segmentStart = at + 1
      }
      out[used++] = END
      out[used++] = END
      start = end
      const pad = layout === undefined ? 0 : padBytesAfter(layout, sizes, index)
      if (pad > 0) {
        const entry = padEntry(pad)
        out.set(entry, used)
        used += entry.length
      }
    }
    out[used++] = END
    this.used = used
  }
}

/** Writes `value`'s decimal digits at `at`; returns where they end. */
function writeDigits (out: Buffer, at: number, value: number): number {
  const end = at + digitCount(value)
  for (let position = end - 1; position >= at; position--) {
    out[position] = DIGIT_0 + (value % 10)
    value = Math.floor(value / 10)
  }
  return end
}

/** The `.torrent` file's bytes. */
export function encodeTorrent (metainfo: Metainfo): Buffer {
  return Buffer.concat(encodeTorrentParts(metainfo))
}

/**
 * `encodeTorrent` as pieces to write one after the other: the info dictionary among them as it is,
 * not copied (for 100,000 files, 5 MB less at the peak of `create`).
 */
export function encodeTorrentParts (metainfo: Metainfo): Uint8Array[] {
  const outer = encodeOuterFields(metainfo)
  const withLayers = metainfo.pieceLayers === undefined ? outer : withEntry(outer, 'piece layers', encodePieceLayers(metainfo.pieceLayers))
  // The info dictionary is spliced in as it is: decoding and encoding it again would cost as much as making it.
  return withEntryParts(withLayers, 'info', metainfo.infoBytes)
}

/** BEP 52 `piece layers`: keyed by the raw 32-byte pieces roots, in their byte order (the order of their hex). */
function encodePieceLayers (layers: ReadonlyMap<string, Buffer>): Buffer {
  const parts: Buffer[] = [Buffer.from('d')]
  for (const root of [...layers.keys()].sort()) {
    const layer = layers.get(root)!
    parts.push(Buffer.from('32:'), Buffer.from(root, 'hex'), Buffer.from(`${layer.length}:`), layer)
  }
  parts.push(Buffer.from('e'))
  return Buffer.concat(parts)
}

/** Whether the two would be written with the same fields outside the info dictionary (trackers, web seeds, comment…). */
export function sameOuterFields (a: Metainfo, b: Metainfo): boolean {
  return encodeOuterFields(a).equals(encodeOuterFields(b))
}

function encodeOuterFields (metainfo: Metainfo): Buffer {
  const torrent: Record<string, unknown> = {}
  const announce = metainfo.announceList[0]?.[0]
  if (announce !== undefined) torrent.announce = announce
  if (metainfo.announceList.length > 0) torrent['announce-list'] = metainfo.announceList
  if (metainfo.urlList.length > 0) torrent['url-list'] = metainfo.urlList
  if (metainfo.comment !== undefined) torrent.comment = metainfo.comment
  if (metainfo.createdBy !== undefined) torrent['created by'] = metainfo.createdBy
  if (metainfo.creationDate !== undefined) torrent['creation date'] = metainfo.creationDate
  return Buffer.from(bencode.encode(torrent))
}

const INFO_KEY = Buffer.from('info')
const FILES_KEY = Buffer.from('files')
const [LIST_START, LIST_END] = [0x6c, 0x65]

/**
 * Reads a `.torrent` file, checking every field it relies on; anything else is an ET_BAD_TORRENT. The
 * result's `infoBytes` may share memory with `bytes`: they must not change afterwards.
 */
export function parseTorrent (bytes: Uint8Array): Metainfo {
  // One walk checks the syntax and finds where the info dictionary's bytes are.
  const entries = dictionaryEntries(bytes)
  if (entries === undefined) throw bad(endOfValue(bytes, 0) < 0 ? 'not valid bencoding (BEP 3)' : 'no info dictionary')
  const infoEntry = entries.find((entry) => entry.key.equals(INFO_KEY))
  const fileList = infoEntry === undefined ? undefined : fileListSpan(bytes, infoEntry)
  // The file list is decoded one file at a time (`checkFiles`), not with the rest: as one tree, a list
  // of 100,000 files took the service's RSS up by about 100 MB while a resumed item was read.
  const rest = fileList === undefined ? bytes : Buffer.concat([bytes.subarray(0, fileList.start), EMPTY_LIST, bytes.subarray(fileList.end)])
  const torrent = decoded(rest)
  const info = field(torrent, 'info')
  if (!isDict(torrent) || !isDict(info)) throw bad('no info dictionary')
  const name = text(field(info, 'name'), 'info.name')
  const nameProblem = segmentProblem(name)
  if (nameProblem !== undefined) throw bad(`info.name is not a safe file name: it ${nameProblem}`)
  const pieceLength = integer(field(info, 'piece length'), 'info.piece length')
  if (!isValidPieceLength(pieceLength)) throw bad(`unsupported piece length ${pieceLength}`)
  const metaVersion = field(info, 'meta version')
  if (metaVersion !== undefined && metaVersion !== 2) throw bad(`info.meta version ${String(metaVersion)} is not supported (BEP 52 is version 2)`)
  const format: TorrentFormat = metaVersion === undefined ? 'v1' : field(info, 'pieces') === undefined ? 'v2' : 'hybrid'
  const pieces = format === 'v2' ? new Uint8Array(0) : field(info, 'pieces')
  if (!isBytes(pieces) || pieces.length % 20 !== 0) throw bad('info.pieces is not a list of SHA-1 digests')
  if (format !== 'v2') checkFiles(info, fileList === undefined ? undefined : bytes.subarray(fileList.start, fileList.end))
  const v2 = format === 'v1' ? undefined : parseV2Parts(bytes, entries, infoEntry!, name, pieceLength, format === 'hybrid' ? fileList === undefined : undefined, segmentProblem)
  const announceList = field(torrent, 'announce-list') !== undefined
    ? list(field(torrent, 'announce-list'), 'announce-list').map((tier) => list(tier, 'announce-list').map((url) => text(url, 'announce-list')))
    : field(torrent, 'announce') !== undefined ? [[text(field(torrent, 'announce'), 'announce')]] : []
  const urls = field(torrent, 'url-list')
  const urlList = urls === undefined ? [] : isBytes(urls) ? [text(urls, 'url-list')] : list(urls, 'url-list').map((url) => text(url, 'url-list'))
  const optional = <T>(dict: Dict, key: string, read: (value: unknown, field: string) => T): T | undefined =>
    field(dict, key) === undefined ? undefined : read(field(dict, key), key)
  const source = optional(info, 'source', (value) => text(value, 'info.source'))
  const comment = optional(torrent, 'comment', text)
  const createdBy = optional(torrent, 'created by', text)
  const creationDate = optional(torrent, 'creation date', integer)
  // The infohash is the SHA-1 of the info dictionary's bytes as they stand in the file, not re-encoded:
  // a torrent made by a tool that encodes differently keeps the infohash every client gives it.
  // The syntax check refused repeated keys, so there is exactly one entry for the info dictionary.
  const infoBytes = infoBytesOf(bytes, infoEntry!)
  const metainfo = describe(infoBytes, {
    name,
    pieceLength,
    pieces: Buffer.from(pieces),
    announceList,
    urlList,
    private: field(info, 'private') === 1,
    ...(source !== undefined && { source }),
    ...(comment !== undefined && { comment }),
    ...(createdBy !== undefined && { createdBy }),
    ...(creationDate !== undefined && { creationDate })
  }, v2 === undefined ? undefined : v2Description(infoBytes, name, pieceLength, format, v2))
  if (metainfo.pieceCount !== Math.ceil(metainfo.totalBytes / pieceLength)) throw bad('the number of pieces does not match the total size')
  return metainfo
}

/** A hybrid torrent's v1 file list must be its file tree's files, each on a piece boundary (BEP 47 pad files between). */
function v2Description (infoBytes: Buffer, name: string, pieceLength: number, format: TorrentFormat, v2: V2Parts): V2Description {
  const layout = pieceAlignedLayout(v2.sizes, pieceLength)
  const description = { format, roots: v2.roots, layers: v2.layers }
  if (format === 'v2') return { ...description, files: TorrentFiles.fromTree(infoBytes, name, v2.paths, v2.sizes, layout.starts, layout.totalBytes) }
  const files = TorrentFiles.fromInfo(infoBytes, name)
  const matches = files.length === v2.sizes.length && files.totalBytes === layout.totalBytes &&
    v2.paths.every((path, index) => files.lengthOf(index) === v2.sizes[index] && files.offsetOf(index) === layout.starts[index] &&
      (path.length === 0 ? !files.isMultiFile : files.pathOf(index).join('/') === path.join('/')))
  if (!matches) throw bad('the v1 file list is not the file tree\'s files in its order, each starting on a piece boundary (BEP 52 hybrid, BEP 47 pad files)')
  return description
}

/** What `describe` needs of a hybrid or v2 torrent. */
interface V2Description {
  readonly format: TorrentFormat
  readonly roots: Buffer
  readonly layers: ReadonlyMap<string, Buffer>
  /** A v2-only torrent's files, which have no v1 list. */
  readonly files?: TorrentFiles
}

/**
 * The info dictionary's bytes: a view into `bytes` when they are most of them (a resumed torrent of
 * 100,000 files: a copy would leave the 5 MB read from disk for a garbage collector that an idle
 * service seldom runs), a copy when the rest is large enough to be worth letting go.
 */
function infoBytesOf (bytes: Uint8Array, entry: DictionaryEntry): Buffer {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset + entry.valueStart, entry.valueEnd - entry.valueStart)
  return bytes.length - view.length <= MAX_SHARED_OUTER_BYTES ? view : Buffer.from(view)
}

const MAX_SHARED_OUTER_BYTES = 64 * 1024

/** The single file's length or every entry of `info.files`, as `TorrentFiles` will read them. */
const EMPTY_LIST = Buffer.from('le')

function decoded (bytes: Uint8Array): unknown {
  try {
    return bencode.decode(bytes)
  } catch (error) {
    throw bad(`not bencoded data (${error instanceof Error ? error.message : String(error)})`)
  }
}

/** Where the value of the info dictionary's `files` key lies in `bytes`, if it has one. */
function fileListSpan (bytes: Uint8Array, info: DictionaryEntry): { start: number, end: number } | undefined {
  const entry = dictionaryEntries(bytes.subarray(info.valueStart, info.valueEnd))?.find((candidate) => candidate.key.equals(FILES_KEY))
  return entry === undefined ? undefined : { start: info.valueStart + entry.valueStart, end: info.valueStart + entry.valueEnd }
}

/**
 * The single file's length, or every entry of the `files` list (its raw bytes, checked bencoding),
 * as `TorrentFiles` will read them.
 */
function checkFiles (info: Dict, fileList: Uint8Array | undefined): void {
  if (fileList === undefined) {
    integer(field(info, 'length'), 'info.length')
    return
  }
  if (fileList[0] !== LIST_START) throw bad('info.files is not a list')
  for (let position = 1, index = 0; fileList[position] !== LIST_END; index++) {
    const end = endOfValue(fileList, position)
    const file = decoded(fileList.subarray(position, end))
    position = end
    if (!isDict(file)) throw bad(`info.files[${index}] is not a dictionary`)
    const path = list(field(file, 'path'), `info.files[${index}].path`).map((segment) => text(segment, `info.files[${index}].path`))
    if (path.length === 0) throw bad(`info.files[${index}].path is empty`)
    for (const [position, segment] of path.entries()) {
      const problem = segmentProblem(segment)
      if (problem !== undefined) throw bad(`info.files[${index}].path is not a safe relative path: its segment ${position} ${problem}`)
    }
    integer(field(file, 'length'), `info.files[${index}].length`)
  }
}

/**
 * Why a name or path segment would not stay where it is put or would not be the same name everywhere,
 * or undefined when it is safe. Control characters are refused: NUL cannot be in a file name, a
 * newline or an escape sequence in a name rewrites log lines and terminals, and other clients change
 * such names (libtorrent 2.0 replaces U+0001–U+001F with "_" and drops NUL), so the file they write
 * would not be the file this torrent names.
 */
function segmentProblem (segment: string): string | undefined {
  if (segment === '') return 'is empty'
  if (segment === '.' || segment === '..') return `is "${segment}"`
  if (segment.includes('/')) return 'contains "/"'
  const control = CONTROL_CHARACTER.exec(segment)
  if (control !== null) return `contains the control character U+${control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`
  return undefined
}

const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/

function describe (infoBytes: Buffer, fields: Omit<MetainfoFields, 'files'>, v2?: V2Description): Metainfo {
  const files = v2?.files ?? TorrentFiles.fromInfo(infoBytes, fields.name)
  const format = v2?.format ?? 'v1'
  const infoHashV2 = v2 === undefined ? undefined : createHash('sha256').update(infoBytes).digest('hex') as InfoHashV2
  return {
    infoHash: format === 'v2' ? truncatedInfoHash(infoHashV2!) : createHash('sha1').update(infoBytes).digest('hex') as InfoHash,
    format,
    ...(v2 !== undefined && { infoHashV2, piecesRoots: v2.roots, pieceLayers: v2.layers }),
    name: fields.name,
    pieceLength: fields.pieceLength,
    pieceCount: format === 'v2' ? Math.ceil(files.totalBytes / fields.pieceLength) : fields.pieces.length / 20,
    totalBytes: files.totalBytes,
    files,
    isMultiFile: files.isMultiFile,
    announceList: fields.announceList ?? [],
    urlList: fields.urlList ?? [],
    private: fields.private === true,
    ...(fields.comment !== undefined && { comment: fields.comment }),
    ...(fields.source !== undefined && { source: fields.source }),
    ...(fields.createdBy !== undefined && { createdBy: fields.createdBy }),
    ...(fields.creationDate !== undefined && { creationDate: fields.creationDate }),
    infoBytes,
    pieces: fields.pieces
  }
}

type Dict = Record<string, unknown>
// ignoreBOM keeps a leading U+FEFF in the text: dropping it would name a file other clients name otherwise.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/**
 * A dictionary's own entry: the bencode package decodes a dictionary into a plain object, so a
 * `__proto__` key sets that object's prototype and would otherwise lend it keys it does not have.
 */
function field (dict: unknown, key: string): unknown {
  return isDict(dict) && Object.hasOwn(dict, key) ? dict[key] : undefined
}

function isDict (value: unknown): value is Dict {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !ArrayBuffer.isView(value)
}

/** A decoded byte string; `instanceof` would also take a dictionary whose `__proto__` is one. */
function isBytes (value: unknown): value is Uint8Array {
  return ArrayBuffer.isView(value)
}

function text (value: unknown, field: string): string {
  if (!isBytes(value)) throw bad(`${field} is not a string`)
  try {
    return utf8.decode(value)
  } catch {
    throw bad(`${field} is not valid UTF-8`)
  }
}

function integer (value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw bad(`${field} is not a non-negative integer`)
  return value
}

function list (value: unknown, field: string): unknown[] {
  if (!Array.isArray(value)) throw bad(`${field} is not a list`)
  return value
}

function bad (detail: string): MetainfoError {
  return new MetainfoError('ET_BAD_TORRENT', `invalid torrent: ${detail}`)
}
