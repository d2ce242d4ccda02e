import bencode from 'bencode'
import type { Metainfo } from '../metainfo/metainfo.js'
import { DownloadError, unsafePath } from './download-errors.js'

/** One file of a torrent as the download writes it. */
export interface ContentFile {
  /** Path below the destination folder: the torrent's name, then the file's path (multi-file). */
  readonly segments: readonly string[]
  readonly length: number
  /** Where the file starts in the torrent's concatenated content. */
  readonly offset: number
  /** BEP 47 pad file: its bytes are zeros, never written. */
  readonly pad: boolean
}

/** Files of one torrent, in torrent order; `fileRangesFor` reads it. */
export class ContentLayout {
  constructor (readonly files: readonly ContentFile[], readonly totalBytes: number) {}

  /** Files, pad files included. */
  get length (): number {
    return this.files.length
  }

  offsetOf (index: number): number {
    return this.files[index]!.offset
  }

  lengthOf (index: number): number {
    return this.files[index]!.length
  }
}

/**
 * Where each file of `metainfo` goes, or an ET_UNSAFE_PATH refusal. `parseTorrent` already refused
 * empty, `.`, `..` and control-character segments and any `/`; this adds what only matters when
 * writing: BEP 47 symlinks (refused: a link could point anywhere), pad files (kept out of the disk),
 * and two paths that a case-insensitive or Unicode-normalising filesystem (a FAT or exFAT drive) would
 * take for one file, or a file that is also another's folder.
 */
export function planContent (metainfo: Metainfo): ContentLayout {
  // Pieces are checked by their SHA-1 (`pieces`), which a v2-only torrent does not have.
  if (metainfo.format === 'v2') throw new DownloadError('ET_BAD_METADATA', `refused to download "${metainfo.name}": a v2-only torrent (BEP 52), which this box cannot verify yet; a hybrid or v1 torrent of it can be`)
  const entries = rawFileEntries(metainfo)
  const files: ContentFile[] = []
  const seen = new Map<string, 'file' | 'folder'>()
  // `metainfo.files` leaves BEP 47 pad files out (hybrid torrents have them between files); the
  // raw list has them, in place: walk both, so each real file keeps its own attributes and a pad's
  // bytes are known to be zeros.
  let index = 0
  let offset = 0
  for (const { attr, length } of entries) {
    if (attr.includes('p')) {
      files.push({ segments: [metainfo.name, '.pad', String(length)], length, offset, pad: true })
      offset += length
      continue
    }
    const entry = metainfo.files.at(index++)
    if (entry === undefined || entry.offset !== offset || entry.length !== length) throw unsafePath('the file list does not match the info dictionary')
    const segments = metainfo.isMultiFile ? [metainfo.name, ...entry.path] : [metainfo.name]
    const shown = segments.join('/')
    if (attr.includes('l')) throw unsafePath(`"${shown}" is a symlink (BEP 47 attr "l")`)
    for (const segment of segments) checkSegment(segment, shown)
    claim(seen, segments, shown)
    files.push({ segments, length, offset, pad: false })
    offset += length
  }
  if (index !== metainfo.files.length) throw unsafePath('the file list does not match the info dictionary')
  return new ContentLayout(files, metainfo.totalBytes)
}

function checkSegment (segment: string, shown: string): void {
  // Defence in depth over parseTorrent: each of these would leave the folder or name something else.
  if (segment === '' || segment === '.' || segment === '..') throw unsafePath(`"${shown}" has a "${segment}" path segment`)
  if (segment.includes('/') || segment.includes('\0')) throw unsafePath(`"${shown}" has a segment with "/" or NUL`)
}

/** Records `segments` as a file and its parents as folders; a clash is a refusal. */
function claim (seen: Map<string, 'file' | 'folder'>, segments: readonly string[], shown: string): void {
  for (let depth = 1; depth <= segments.length; depth++) {
    const key = segments.slice(0, depth).map(foldName).join('/')
    const kind = depth === segments.length ? 'file' : 'folder'
    const before = seen.get(key)
    if (before === undefined) {
      seen.set(key, kind)
      continue
    }
    if (before === 'folder' && kind === 'folder') continue
    throw unsafePath(`"${shown}" clashes with another file of the torrent (same name up to case or Unicode form, or a file that is also a folder)`)
  }
}

function foldName (segment: string): string {
  return segment.normalize('NFC').toLowerCase()
}

/** Each entry of the info dictionary's file list, pad files included: its BEP 47 `attr` ('' where absent) and length. */
function rawFileEntries (metainfo: Metainfo): Array<{ readonly attr: string, readonly length: number }> {
  const info = bencode.decode(metainfo.infoBytes) as Record<string, unknown>
  const entryOf = (dict: unknown): { attr: string, length: number } => {
    const fields = (typeof dict === 'object' && dict !== null ? dict : {}) as Record<string, unknown>
    const attr = Object.hasOwn(fields, 'attr') ? fields.attr : undefined
    return {
      attr: ArrayBuffer.isView(attr) ? Buffer.from(attr.buffer, attr.byteOffset, attr.byteLength).toString('latin1') : '',
      length: typeof fields.length === 'number' ? fields.length : -1
    }
  }
  if (!Object.hasOwn(info, 'files')) return [entryOf(info)]
  return Array.isArray(info.files) ? info.files.map(entryOf) : []
}
