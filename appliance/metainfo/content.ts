import { createHash } from 'node:crypto'
import { lstat, readdir, realpath, stat, statfs } from 'node:fs/promises'
import { lstatSync, readdirSync, realpathSync, statSync, type Stats } from 'node:fs'
import { basename, join, resolve, sep } from 'node:path'
import { fsError, MetainfoError } from './errors.js'
import { FileListingBuilder, type FileListing } from './file-listing.js'
import { isJunkName } from './junk.js'
import { isTemporaryName } from './temporary-names.js'

export interface SkippedEntry {
  readonly path: string
  readonly reason: string
}

/** What a path holds, as a torrent will describe it. */
export interface Content {
  readonly root: string
  readonly name: string
  readonly isDirectory: boolean
  /** In torrent order; `segments(i)` is `[]` when the content is a single file. */
  readonly files: FileListing
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

export interface ListOptions {
  /** More files than this is `ET_TOO_MANY_FILES`: the listing is a table the service keeps per item. */
  readonly maxFiles?: number
  /**
   * Look at each folder's entries with blocking calls: 2–5 times faster on 100,000 files (no promise
   * and thread-pool round trip per file), for a caller with nothing else to do (the CLI). The event
   * loop still runs between folders. The service keeps its event loop free: not for it.
   */
  readonly blocking?: boolean
}

/** The calls the walk makes, blocking or not; awaited either way. */
interface WalkCalls {
  readdir (path: string): Promise<string[]> | string[]
  readdirBytes (path: string): Promise<Buffer[]> | Buffer[]
  lstat (path: string): Promise<Stats> | Stats
  stat (path: string): Promise<Stats> | Stats
  realpath (path: string): Promise<string> | string
}

const NON_BLOCKING: WalkCalls = { readdir, readdirBytes: async (path) => await readdir(path, { encoding: 'buffer' }), lstat, stat, realpath }
const BLOCKING: WalkCalls = { readdir: readdirSync, readdirBytes: (path) => readdirSync(path, { encoding: 'buffer' }), lstat: lstatSync, stat: statSync, realpath: realpathSync }

/** The default bound on the files of one item (`library.max_files_per_item`). */
export const DEFAULT_MAX_FILES = 1_000_000

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
export async function scanContent (path: string, options: ListOptions = {}): Promise<Content> {
  return requireBytes(await listContent(path, options))
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
export async function listContent (path: string, options: ListOptions = {}): Promise<Content> {
  const root = resolve(path)
  const rootStats = await statInput(root)
  const name = basename(root)
  checkCharacters(name, root)

  const inodes = await inodesAreStable(root)
  const maxFiles = options.maxFiles ?? DEFAULT_MAX_FILES
  const fingerprint = new Fingerprint(inodes)
  fingerprint.add('', rootStats)
  if (rootStats.isFile()) {
    const builder = new FileListingBuilder(root, inodes, maxFiles)
    builder.add('', rootStats.size, rootStats.mtimeMs, rootStats.ino)
    const files = builder.finish()
    return { root, name, isDirectory: false, files, totalBytes: files.totalBytes, skipped: [], lastChange: fingerprint.finish() }
  }
  if (!rootStats.isDirectory()) {
    throw new MetainfoError('ET_UNREADABLE', `${root} is neither a file nor a folder`, { path: root })
  }

  const realRoot = await realpath(root)
  const walker = new FolderWalker(realRoot, new FileListingBuilder(root + sep, inodes, maxFiles), fingerprint, options.blocking === true ? BLOCKING : NON_BLOCKING)
  await walker.walk(root, realRoot, '', new Set([realRoot]))
  const files = walker.files.finish()
  const skipped = walker.skipped.sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)))
  return { root, name, isDirectory: true, files, totalBytes: files.totalBytes, skipped, lastChange: fingerprint.finish() }
}

async function statInput (root: string): Promise<Stats> {
  try {
    return await stat(root)
  } catch (error) {
    throw fsError(error, root)
  }
}

type Stamp = Pick<Stats, 'size' | 'mtimeMs' | 'ctimeMs' | 'ino'>

function stampOf ({ size, mtimeMs, ctimeMs, ino }: Stats): Stamp {
  return { size, mtimeMs, ctimeMs, ino }
}

/** An entry of a folder once looked at: what it is, and its stats (a symlink's: its target's). */
interface Visited {
  readonly name: string
  readonly kind: 'file' | 'folder' | 'temporary'
  /** Copied out of the stat result, which is far larger (a folder can hold 100,000 entries). */
  readonly stats: Stamp
  /** The real path of a symlink's target; undefined for anything else. */
  readonly target?: string
}

/**
 * Walks a folder tree in torrent order: each folder's entries are sorted by name (a folder's name
 * with a `/` after it, as it stands in its files' paths), and folders are walked depth first, which
 * is the byte-wise order of the whole paths. So files go into the listing already sorted, and
 * nothing but one folder's entries is held at a time.
 */
class FolderWalker {
  readonly skipped: SkippedEntry[] = []

  constructor (private readonly realRoot: string, readonly files: FileListingBuilder, private readonly fingerprint: Fingerprint, private readonly calls: WalkCalls) {}

  /** `ancestors` holds the real paths of the folders above, so a symlink loop is noticed. */
  async walk (folder: string, realFolder: string, prefix: string, ancestors: ReadonlySet<string>): Promise<void> {
    const names: string[] = []
    for (const name of await this.namesIn(folder)) {
      if (isJunkName(name)) this.skipped.push({ path: join(folder, name), reason: 'junk file left by an operating system' })
      else names.push(name)
    }
    const visited = await visitAll(names, async (name) => await this.visit(folder, name, ancestors))
    const entries = visited.filter((entry) => entry !== undefined)
    entries.sort((a, b) => compareCodePoints(sortKey(a), sortKey(b)))
    for (const entry of entries) {
      const relative = prefix + entry.name
      this.fingerprint.add(relative, entry.stats)
      if (entry.kind === 'file') {
        this.files.add(relative, entry.stats.size, entry.stats.mtimeMs, entry.stats.ino, entry.target)
      } else if (entry.kind === 'folder') {
        const real = entry.target ?? `${realFolder}${sep}${entry.name}`
        await this.walk(`${folder}${sep}${entry.name}`, real, `${relative}/`, new Set([...ancestors, real]))
      }
    }
  }

  /**
   * The names in `folder`, checked. Read as strings, which costs a tenth of a buffer per name; Node
   * puts U+FFFD where a name is not UTF-8, so a folder with that character in a name is read again
   * as bytes to tell the two apart.
   */
  private async namesIn (folder: string): Promise<string[]> {
    try {
      const names = await this.calls.readdir(folder)
      if (!names.some((name) => name.includes('\ufffd'))) {
        for (const name of names) checkCharacters(name, join(folder, name))
        return names
      }
      return (await this.calls.readdirBytes(folder)).map((raw) => decodeName(raw, folder))
    } catch (error) {
      throw error instanceof MetainfoError ? error : fsError(error, folder)
    }
  }

  private async visit (folder: string, name: string, ancestors: ReadonlySet<string>): Promise<Visited | undefined> {
    // Not `join`: the folder is already normal, and normalizing 100,000 paths again showed in profiles.
    const path = `${folder}${sep}${name}`
    if (isTemporaryName(name)) return await this.visitTemporary(path, name)
    let stats: Stats
    try {
      stats = await this.calls.lstat(path)
    } catch (error) {
      throw fsError(error, path)
    }
    let target: string | undefined
    if (stats.isSymbolicLink()) {
      target = await this.insideTarget(path)
      if (target === undefined) {
        this.skipped.push({ path, reason: 'symbolic link that leaves the folder or points nowhere' })
        return undefined
      }
      if (ancestors.has(target)) {
        this.skipped.push({ path, reason: 'symbolic link that loops back to a folder above it' })
        return undefined
      }
      stats = await this.calls.stat(target)
    }
    if (stats.isFile()) return { name, kind: 'file', stats: stampOf(stats), ...(target !== undefined && { target }) }
    if (stats.isDirectory()) return { name, kind: 'folder', stats: stampOf(stats), ...(target !== undefined && { target }) }
    this.skipped.push({ path, reason: 'not a regular file or folder' })
    return undefined
  }

  /**
   * Left out of the torrent, but its times count: one still being written means a copy is going on.
   * A temporary folder (Safari's `*.download`) counts by its own times only.
   */
  private async visitTemporary (path: string, name: string): Promise<Visited | undefined> {
    this.skipped.push({ path, reason: 'temporary file of a copy or download in progress' })
    try {
      return { name, kind: 'temporary', stats: stampOf(await this.calls.lstat(path)) }
    } catch (error) {
      // Renamed or deleted since the folder was read: the copy that made it finished or gave up.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw fsError(error, path)
      return undefined
    }
  }

  private async insideTarget (link: string): Promise<string | undefined> {
    let target: string
    try {
      target = await this.calls.realpath(link)
    } catch {
      return undefined
    }
    return target === this.realRoot || target.startsWith(this.realRoot + sep) ? target : undefined
  }
}

/** `visit` of every name, `CONCURRENT_VISITS` at a time: awaited one after the other, the lstat calls spend most of their time queued. */
async function visitAll<T> (names: readonly string[], visit: (name: string) => Promise<T>): Promise<T[]> {
  const results = new Array<T>(names.length)
  let next = 0
  const lane = async (): Promise<void> => {
    while (next < names.length) {
      const index = next++
      results[index] = await visit(names[index]!)
    }
  }
  await Promise.all(Array.from({ length: Math.min(CONCURRENT_VISITS, names.length) }, lane))
  return results
}

/** A folder sorts as its files' paths go on: its name, then `/`. */
function sortKey (entry: Visited): string {
  return entry.kind === 'folder' ? `${entry.name}/` : entry.name
}

/**
 * Orders strings as their UTF-8 bytes are ordered (code point order). JavaScript compares UTF-16
 * code units, which puts U+10000 and above (surrogate pairs, D800–DFFF) before U+E000–U+FFFF: moved
 * above them here.
 */
export function compareCodePoints (a: string, b: string): number {
  const shorter = Math.min(a.length, b.length)
  for (let index = 0; index < shorter; index++) {
    const x = a.charCodeAt(index)
    const y = b.charCodeAt(index)
    if (x !== y) return codePointRank(x) - codePointRank(y)
  }
  return a.length - b.length
}

function codePointRank (unit: number): number {
  if (unit < 0xd800) return unit
  return unit < 0xe000 ? unit + 0x2000 : unit - 0x800
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

/** Text hashed at once by `Fingerprint`: one update per this many characters, not one per entry. */
const FINGERPRINT_BATCH = 64 * 1024

/** `LastChange` of the entries walked, taken in as they come (the walk's order is fixed). */
class Fingerprint {
  private readonly hash = createHash('sha1')
  private text = ''
  private atMs = -Infinity

  constructor (private readonly inodes: boolean) {}

  add (path: string, stats: Stamp): void {
    this.atMs = Math.max(this.atMs, stats.mtimeMs, stats.ctimeMs)
    this.text += `${JSON.stringify(path)},${stats.size},${stats.mtimeMs},${stats.ctimeMs},${this.inodes ? stats.ino : 0}\n`
    if (this.text.length < FINGERPRINT_BATCH) return
    this.hash.update(this.text)
    this.text = ''
  }

  finish (): LastChange {
    return { atMs: this.atMs, fingerprint: this.hash.update(this.text).digest('hex') }
  }
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
