import { hash } from 'node:crypto'
import { lstat, readdir, realpath, stat, statfs } from 'node:fs/promises'
import type { Dirent, Stats } from 'node:fs'
import { basename, join, resolve, sep } from 'node:path'
import { fsError, MetainfoError } from './errors.js'
import { isJunkName } from './junk.js'
import { isTemporaryName } from './temporary-names.js'

/** One file of the content, in torrent order. */
export interface ContentFile {
  /** Path below the content root, one segment per folder; `[]` when the content is a single file. */
  readonly segments: readonly string[]
  readonly absolutePath: string
  readonly size: number
  readonly mtimeMs: number
  /** Set by the kernel to its own clock on every change (write, truncate, rename, chmod, utimes). */
  readonly ctimeMs: number
  /** Undefined where the filesystem makes inode numbers up (see `hasStableInodes`). */
  readonly ino?: number
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
  /** Entries left out (junk, temporaries, symlinks leaving the root, special files), for the caller to report. */
  readonly skipped: readonly SkippedEntry[]
  /**
   * Everything walked (files, folders, temporaries), for telling whether a copy into it is still
   * going on: the newest of their mtimes and ctimes, and a digest of their paths, sizes, times and
   * inodes that changes whenever any of them does. The torrent never depends on it.
   */
  readonly lastChange: LastChange
}

export interface LastChange {
  readonly atMs: number
  readonly fingerprint: string
}

type Stamp = readonly [path: string, size: number, mtimeMs: number, ctimeMs: number, ino: number]

const utf8 = new TextDecoder('utf-8', { fatal: true })
/** Entries of one folder looked at at once while scanning. */
const CONCURRENT_VISITS = 16

/**
 * Lists the files a torrent of `path` will hold. Order: byte-wise order of the UTF-8 relative path
 * with `/` separators (the order mktorrent and libtorrent use), so the same content gives the same
 * infohash everywhere. Junk and temporary names are left out; symlinks are followed only while they
 * stay inside the root; empty folders cannot be expressed in BEP 3 and vanish; zero-length files are
 * kept. Content with no byte to publish is `ET_EMPTY`.
 */
export async function scanContent (path: string): Promise<Content> {
  return requireBytes(await listContent(path))
}

/** `ET_EMPTY` unless `content` has a byte to publish. */
export function requireBytes (content: Content): Content {
  if (content.totalBytes > 0) return content
  if (!content.isDirectory) throw new MetainfoError('ET_EMPTY', `${content.root} is an empty file: there is nothing to publish`, { path: content.root })
  const what = content.files.length === 0 ? 'no files to publish' : 'only empty files'
  throw new MetainfoError('ET_EMPTY', `${content.root} holds ${what}: there is nothing to publish`, { path: content.root })
}

/**
 * `scanContent` without judging whether there is anything to publish: a file being copied in is
 * empty for a moment, and only the caller knows whether that is final.
 */
export async function listContent (path: string): Promise<Content> {
  const root = resolve(path)
  const rootStats = await statInput(root)
  const name = basename(root)
  checkCharacters(name, root)

  const inodes = await inodesAreStable(root)
  if (rootStats.isFile()) {
    const file: ContentFile = { segments: [], absolutePath: root, size: rootStats.size, mtimeMs: rootStats.mtimeMs, ctimeMs: rootStats.ctimeMs, ...(inodes && { ino: rootStats.ino }) }
    return { root, name, isDirectory: false, files: [file], totalBytes: file.size, skipped: [], lastChange: lastChangeOf([stampOf('', rootStats, inodes)]) }
  }
  if (!rootStats.isDirectory()) {
    throw new MetainfoError('ET_UNREADABLE', `${root} is neither a file nor a folder`, { path: root })
  }

  const walker = new FolderWalker(await realpath(root), inodes)
  walker.stamps.push(stampOf('', rootStats, inodes))
  await walker.walk(root, [], new Set([walker.realRoot]))
  const files = inTorrentOrder(walker.files)
  const totalBytes = files.reduce((sum, file) => sum + file.size, 0)
  const skipped = walker.skipped.sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)))
  return { root, name, isDirectory: true, files, totalBytes, skipped, lastChange: lastChangeOf(walker.stamps) }
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
  readonly stamps: Stamp[] = []

  constructor (readonly realRoot: string, private readonly inodes: boolean) {}

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
        else if (isTemporaryName(name)) await this.visitTemporary(path, [...segments, name])
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

    this.stamps.push(stampOf(segments.join('/'), stats, this.inodes))
    if (stats.isFile()) {
      this.files.push({ segments, absolutePath: readPath, size: stats.size, mtimeMs: stats.mtimeMs, ctimeMs: stats.ctimeMs, ...(this.inodes && { ino: stats.ino }) })
    } else if (stats.isDirectory()) {
      const real = await realpath(path)
      await this.walk(path, segments, new Set([...ancestors, real]))
    } else {
      this.skipped.push({ path, reason: 'not a regular file or folder' })
    }
  }

  /**
   * Left out of the torrent, but its times count: one still being written means a copy is going on.
   * A temporary folder (Safari's `*.download`) counts by its own times only.
   */
  private async visitTemporary (path: string, segments: string[]): Promise<void> {
    this.skipped.push({ path, reason: 'temporary file of a copy or download in progress' })
    try {
      this.stamps.push(stampOf(segments.join('/'), await lstat(path), this.inodes))
    } catch (error) {
      // Renamed or deleted since the folder was read: the copy that made it finished or gave up.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw fsError(error, path)
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
  let name: string
  try {
    name = utf8.decode(raw)
  } catch {
    const shown = join(folder, raw.toString('latin1'))
    throw new MetainfoError('ET_NAME_ENCODING', `${shown}: the name is not valid UTF-8; rename it (torrent names must be UTF-8)`, { path: shown })
  }
  checkCharacters(name, join(folder, name))
  return name
}

const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/

/** Torrent clients refuse names with control characters (a newline, an escape, a tab) in them. */
function checkCharacters (name: string, path: string): void {
  const found = CONTROL_CHARACTER.exec(name)
  if (found === null) return
  const code = `U+${found[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`
    // Escaped (`\n`, `\u001b`) so the message cannot break a log line or a terminal.
  const shown = JSON.stringify(path).slice(1, -1)
  throw new MetainfoError('ET_NAME_ENCODING', `${shown}: the name holds a control character (${code}); rename it (torrent clients refuse such names)`, { path })
}

function stampOf (path: string, stats: Stats, inodes: boolean): Stamp {
  return [path, stats.size, stats.mtimeMs, stats.ctimeMs, inodes ? stats.ino : 0]
}

/**
 * `statfs` types of filesystems whose inode numbers are made up when the kernel loads an inode —
 * FAT and exFAT (`iunique`), FUSE (its own node ids: exfat-fuse) — so the same file can show another
 * number after it was dropped from the inode cache, or after a replug. Their files carry no inode:
 * the checks that a file is still the one hashed, and the resume signature, then go by size and mtime.
 */
const MADE_UP_INODES: ReadonlySet<number> = new Set([0x4d44, 0x2011bab0, 0x65735546])

export function hasStableInodes (filesystemType: number): boolean {
  return !MADE_UP_INODES.has(filesystemType)
}

/** Where the filesystem cannot be asked (not Linux), the inodes are taken as they come. */
async function inodesAreStable (path: string): Promise<boolean> {
  try {
    return hasStableInodes((await statfs(path)).type)
  } catch {
    return true
  }
}

function lastChangeOf (stamps: readonly Stamp[]): LastChange {
  const sorted = [...stamps].sort((a, b) => a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)
  return {
    atMs: stamps.reduce((newest, [, , mtimeMs, ctimeMs]) => Math.max(newest, mtimeMs, ctimeMs), -Infinity),
    fingerprint: hash('sha1', JSON.stringify(sorted))
  }
}

/** Sorted by the bytes of their relative paths, each encoded once (not twice per comparison). */
function inTorrentOrder (files: readonly ContentFile[]): ContentFile[] {
  return files
    .map((file) => ({ key: Buffer.from(file.segments.join('/')), file }))
    .sort((a, b) => Buffer.compare(a.key, b.key))
    .map(({ file }) => file)
}
