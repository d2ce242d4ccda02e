import bencode from 'bencode'
import { dictionaryEntries, endOfValue, type DictionaryEntry } from './bencode-span.js'
import { MetainfoError } from './errors.js'
import { pieceLayerProblem } from './file-trees.js'
import { HASH_BYTES } from './merkle.js'

/** What a hybrid or v2 torrent says of its files besides the v1 fields (BEP 52), checked. */
export interface V2Parts {
  /** In file tree order; `[]` for a single-file torrent. */
  readonly paths: ReadonlyArray<readonly string[]>
  readonly sizes: Float64Array
  /** 32 bytes per file; zeros for an empty file. */
  readonly roots: Buffer
  readonly layers: ReadonlyMap<string, Buffer>
}

/** Folders deeper than this are refused: the walk recurses, and no real content nests so deep. */
const MAX_TREE_DEPTH = 256
const FILE_TREE_KEY = Buffer.from('file tree')
const PIECE_LAYERS_KEY = Buffer.from('piece layers')
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/**
 * Reads the `file tree` of the info dictionary (at `info` in `bytes`) and the `piece layers` among
 * the torrent's `outer` entries, from their raw bytes (their keys are path segments and raw digests,
 * which a decoder would turn into text). Every file larger than a piece must have a layer of the
 * right length whose merkle root is the file's pieces root; anything else is ET_BAD_TORRENT.
 * `singleFile`: whether the v1 part of a hybrid torrent describes a single file (undefined for v2).
 * `segmentProblem` says why a path segment is unsafe.
 */
export function parseV2Parts (bytes: Uint8Array, outer: readonly DictionaryEntry[], info: DictionaryEntry, name: string, pieceLength: number, singleFile: boolean | undefined, segmentProblem: (segment: string) => string | undefined): V2Parts {
  const infoBytes = bytes.subarray(info.valueStart, info.valueEnd)
  const tree = dictionaryEntries(infoBytes)?.find((entry) => entry.key.equals(FILE_TREE_KEY))
  if (tree === undefined) throw bad('info.meta version is 2 but there is no info.file tree (BEP 52)')
  const files: TreeFile[] = []
  walkTree(Buffer.from(infoBytes.buffer, infoBytes.byteOffset, infoBytes.byteLength), tree.valueStart, [], files, segmentProblem)
  if (files.length === 0) throw bad('info.file tree holds no file')
  // BEP 52: a single file sits under the torrent's name. A folder holding one file of the folder's
  // name looks the same; a hybrid torrent's v1 part tells them apart (`singleFile`).
  const single = singleFile ?? (files.length === 1 && files[0]!.path.length === 1 && files[0]!.path[0] === name)
  if (single && (files.length !== 1 || files[0]!.path.length !== 1 || files[0]!.path[0] !== name)) throw bad(`info.file tree does not hold the single file "${name}" that info.length describes`)
  const layers = pieceLayersOf(bytes, outer)
  const used = new Set<string>()
  const roots = Buffer.alloc(files.length * HASH_BYTES)
  for (const [index, file] of files.entries()) {
    if (file.root === undefined) continue
    roots.set(file.root, index * HASH_BYTES)
    if (file.size <= pieceLength) continue
    const key = file.root.toString('hex')
    const layer = layers.get(key)
    if (layer === undefined) throw bad(`piece layers has no layer for ${file.path.join('/')} (${file.size} bytes, more than one piece)`)
    const problem = pieceLayerProblem(layer, file.size, pieceLength, file.root)
    if (problem !== undefined) throw bad(`the piece layer of ${file.path.join('/')} ${problem}`)
    used.add(key)
  }
  if (used.size !== layers.size) throw bad('piece layers holds a layer whose pieces root is no file\'s of a size above one piece')
  return {
    paths: files.map((file) => single ? [] : file.path),
    sizes: Float64Array.from(files, (file) => file.size),
    roots,
    layers
  }
}

interface TreeFile {
  readonly path: string[]
  readonly size: number
  readonly root: Buffer | undefined
}

const [DICT, END, COLON] = [0x64, 0x65, 0x3a]

/**
 * Walks the file tree node at `start` of `data` (checked bencoding) in one pass — each folder's
 * entries are read where they stand, so a deep tree costs its size, not its size per level — and
 * returns where the node ends.
 */
function walkTree (data: Buffer, start: number, path: string[], files: TreeFile[], segmentProblem: (segment: string) => string | undefined): number {
  const where = path.length === 0 ? 'info.file tree' : `info.file tree entry ${path.join('/')}`
  if (path.length > MAX_TREE_DEPTH) throw bad(`${where} is nested more than ${MAX_TREE_DEPTH} folders deep`)
  if (data[start] !== DICT) throw bad(`${where} is not a dictionary`)
  let position = start + 1
  let previous: Buffer | undefined
  let entries = 0
  let isFile = false
  while (data[position] !== END) {
    const colon = data.indexOf(COLON, position)
    const keyEnd = colon + 1 + Number(data.toString('latin1', position, colon))
    const key = data.subarray(colon + 1, keyEnd)
    position = keyEnd
    if (previous !== undefined && Buffer.compare(previous, key) >= 0) throw bad(`${where} has keys out of order (BEP 3: sorted by their bytes)`)
    previous = key
    entries++
    if (key.length === 0) {
      isFile = true
      const end = endOfValue(data, position)
      files.push(treeFile(data.subarray(position, end), path, where))
      position = end
      continue
    }
    let segment: string
    try {
      segment = utf8.decode(key)
    } catch {
      throw bad(`${where} has a name that is not valid UTF-8`)
    }
    const problem = segmentProblem(segment)
    if (problem !== undefined) throw bad(`${where} has an unsafe name: it ${problem}`)
    position = walkTree(data, position, [...path, segment], files, segmentProblem)
  }
  if (isFile && (entries !== 1 || path.length === 0)) throw bad(`${where} is both a file and a folder`)
  if (entries === 0) throw bad(`${where} is an empty folder`)
  return position + 1
}

function treeFile (leaf: Uint8Array, path: string[], where: string): TreeFile {
  const value: unknown = bencode.decode(leaf)
  if (typeof value !== 'object' || value === null || Array.isArray(value) || ArrayBuffer.isView(value)) throw bad(`${where} is not a file dictionary`)
  const size = Object.hasOwn(value, 'length') ? (value as Record<string, unknown>).length : undefined
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw bad(`${where} has no length`)
  if (size === 0) return { path, size, root: undefined }
  const root = Object.hasOwn(value, 'pieces root') ? (value as Record<string, unknown>)['pieces root'] : undefined
  if (!ArrayBuffer.isView(root) || root.byteLength !== HASH_BYTES) throw bad(`${where} has no 32-byte pieces root`)
  return { path, size, root: Buffer.from(root as Uint8Array) }
}

function pieceLayersOf (bytes: Uint8Array, outer: readonly DictionaryEntry[]): Map<string, Buffer> {
  const layers = new Map<string, Buffer>()
  const entry = outer.find((candidate) => candidate.key.equals(PIECE_LAYERS_KEY))
  if (entry === undefined) return layers
  const span = bytes.subarray(entry.valueStart, entry.valueEnd)
  const entries = dictionaryEntries(span)
  if (entries === undefined) throw bad('piece layers is not a dictionary')
  for (const layer of entries) {
    if (layer.key.length !== HASH_BYTES) throw bad('piece layers has a key that is not a 32-byte pieces root')
    const value = span.subarray(layer.valueStart, layer.valueEnd)
    const colon = value.indexOf(0x3a)
    if (value[0]! < 0x30 || value[0]! > 0x39 || colon < 0) throw bad('piece layers has a value that is not a string of digests')
    layers.set(layer.key.toString('hex'), Buffer.from(value.subarray(colon + 1)))
  }
  return layers
}

function bad (detail: string): MetainfoError {
  return new MetainfoError('ET_BAD_TORRENT', `invalid torrent: ${detail}`)
}
