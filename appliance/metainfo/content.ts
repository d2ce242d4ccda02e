import { lstat, readdir, realpath, stat } from 'node:fs/promises'
import type { Dirent, Stats } from 'node:fs'
import { basename, join, resolve, sep } from 'node:path'
import { fsError, MetainfoError } from './errors.js'
import { isJunkName } from './junk.js'

/** One file of the content, in torrent order. */
export interface ContentFile {
  /** Path below the content root, one segment per folder; `[]` when the content is a single file. */
  readonly segments: readonly string[]
  readonly absolutePath: string
  readonly size: number
  readonly mtimeMs: number
  readonly ino: number
}

export interface SkippedEntry {
  readonly path: string
  readonly reason: string
}

/** What a path holds, as a torrent will describe it. */
export interface Content {
  readonly root: string
  readonly name: string
  readonly isDirectory: boolean
  readonly files: readonly ContentFile[]
  readonly totalBytes: number
  /** Entries left out (junk, symlinks leaving the root, special files), for the caller to report. */
  readonly skipped: readonly SkippedEntry[]
}

const utf8 = new TextDecoder('utf-8', { fatal: true })
/** Entries of one folder looked at at once while scanning. */
const CONCURRENT_VISITS = 16

/**
 * Lists the files a torrent of `path` will hold. Order: byte-wise order of the UTF-8 relative path
 * with `/` separators (the order mktorrent and libtorrent use), so the same content gives the same
 * infohash everywhere. Junk names are left out; symlinks are followed only while they stay inside the
 * root; empty folders cannot be expressed in BEP 3 and vanish; zero-length files are kept.
 */
export async function scanContent (path: string): Promise<Content> {
  const root = resolve(path)
  const rootStats = await statInput(root)
  const name = basename(root)

  if (rootStats.isFile()) {
    const file: ContentFile = { segments: [], absolutePath: root, size: rootStats.size, mtimeMs: rootStats.mtimeMs, ino: rootStats.ino }
    if (file.size === 0) throw new MetainfoError('ET_EMPTY', `${root} is an empty file: there is nothing to publish`, { path: root })
    return { root, name, isDirectory: false, files: [file], totalBytes: file.size, skipped: [] }
  }
  if (!rootStats.isDirectory()) {
    throw new MetainfoError('ET_UNREADABLE', `${root} is neither a file nor a folder`, { path: root })
  }

  const walker = new FolderWalker(await realpath(root))
  await walker.walk(root, [], new Set([walker.realRoot]))
  const files = inTorrentOrder(walker.files)
  const totalBytes = files.reduce((sum, file) => sum + file.size, 0)
  if (totalBytes === 0) {
    const what = files.length === 0 ? 'no files to publish' : 'only empty files'
    throw new MetainfoError('ET_EMPTY', `${root} holds ${what}: there is nothing to publish`, { path: root })
  }
  return { root, name, isDirectory: true, files, totalBytes, skipped: walker.skipped.sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path))) }
}

async function statInput (root: string): Promise<Stats> {
  try {
    return await stat(root)
  } catch (error) {
    throw fsError(error, root)
  }
}

class FolderWalker {
  readonly files: ContentFile[] = []
  readonly skipped: SkippedEntry[] = []

  constructor (readonly realRoot: string) {}

  /** `ancestors` holds the real paths of the folders above, so a symlink loop is noticed. */
  async walk (folder: string, segments: string[], ancestors: Set<string>): Promise<void> {
    let entries: Array<Dirent<Buffer>>
    try {
      entries = await readdir(folder, { withFileTypes: true, encoding: 'buffer' })
    } catch (error) {
      throw fsError(error, folder)
    }
    const names = entries.map((entry) => decodeName(entry.name, folder))
    // A few at a time: awaited one after the other, the lstat calls spend most of their time queued.
    for (let first = 0; first < names.length; first += CONCURRENT_VISITS) {
      await Promise.all(names.slice(first, first + CONCURRENT_VISITS).map(async (name) => {
        const path = join(folder, name)
        if (isJunkName(name)) this.skipped.push({ path, reason: 'junk file left by an operating system' })
        else await this.visit(path, [...segments, name], ancestors)
      }))
    }
  }

  private async visit (path: string, segments: string[], ancestors: Set<string>): Promise<void> {
    let linkStats: Stats
    try {
      linkStats = await lstat(path)
    } catch (error) {
      throw fsError(error, path)
    }
    let stats = linkStats
    let readPath = path
    if (linkStats.isSymbolicLink()) {
      const target = await this.insideTarget(path)
      if (target === undefined) {
        this.skipped.push({ path, reason: 'symbolic link that leaves the folder or points nowhere' })
        return
      }
      if (ancestors.has(target)) {
        this.skipped.push({ path, reason: 'symbolic link that loops back to a folder above it' })
        return
      }
      stats = await stat(target)
      readPath = target
    }

    if (stats.isFile()) {
      this.files.push({ segments, absolutePath: readPath, size: stats.size, mtimeMs: stats.mtimeMs, ino: stats.ino })
    } else if (stats.isDirectory()) {
      const real = await realpath(path)
      await this.walk(path, segments, new Set([...ancestors, real]))
    } else {
      this.skipped.push({ path, reason: 'not a regular file or folder' })
    }
  }

  private async insideTarget (link: string): Promise<string | undefined> {
    let target: string
    try {
      target = await realpath(link)
    } catch {
      return undefined
    }
    return target === this.realRoot || target.startsWith(this.realRoot + sep) ? target : undefined
  }
}

function decodeName (raw: Buffer, folder: string): string {
  try {
    return utf8.decode(raw)
  } catch {
    const shown = join(folder, raw.toString('latin1'))
    throw new MetainfoError('ET_NAME_ENCODING', `${shown}: the name is not valid UTF-8; rename it (torrent names must be UTF-8)`, { path: shown })
  }
}

/** Sorted by the bytes of their relative paths, each encoded once (not twice per comparison). */
function inTorrentOrder (files: readonly ContentFile[]): ContentFile[] {
  return files
    .map((file) => ({ key: Buffer.from(file.segments.join('/')), file }))
    .sort((a, b) => Buffer.compare(a.key, b.key))
    .map(({ file }) => file)
}
