import { constants } from 'node:fs'
import { lstat, mkdir, open, realpath, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import type { ContentLayout } from './content-layout.js'
import { DownloadError, unsafePath } from './download-errors.js'

const OPEN_FLAGS = constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW

/**
 * The destination folder of one download: every file is reached from the folder's real path through
 * folders that are real folders (never a symlink, checked with lstat before anything is created), and
 * opened with O_NOFOLLOW, so nothing a torrent names, and no symlink planted in the folder, makes a
 * write land outside it. A few files stay open (`maxOpenFiles`), the least recently used closed first.
 */
export class SafeFolder {
  private readonly handles = new Map<number, OpenFile>()

  private constructor (readonly root: string, private readonly layout: ContentLayout, private readonly maxOpenFiles: number) {}

  /**
   * Checks every path of `layout` under `root` before writing anything (a refusal is ET_UNSAFE_PATH
   * and leaves the disk as it was), then creates the folders and the files at their lengths (sparse).
   */
  static async prepare (root: string, layout: ContentLayout, maxOpenFiles = 16): Promise<SafeFolder> {
    await mkdir(root, { recursive: true }).catch((error: unknown) => { throw ioError(error, root) })
    const real = await realpath(root).catch((error: unknown) => { throw ioError(error, root) })
    const folder = new SafeFolder(real, layout, maxOpenFiles)
    for (const file of layout.files) if (!file.pad) await folder.check(file.segments)
    for (const [index, file] of layout.files.entries()) if (!file.pad) await folder.create(index)
    return folder
  }

  /** The path of file `index`, below the folder's real path. */
  pathOf (index: number): string {
    return join(this.root, ...this.layout.files[index]!.segments)
  }

  async write (index: number, fileOffset: number, bytes: Uint8Array): Promise<void> {
    await this.withHandle(index, async (handle) => {
      let done = 0
      while (done < bytes.length) {
        const { bytesWritten } = await handle.write(bytes, done, bytes.length - done, fileOffset + done)
        done += bytesWritten
      }
    })
  }

  /** Reads exactly `length` bytes into `into` at `at`; bytes past the file's end read as zeros. */
  async read (index: number, fileOffset: number, length: number, into: Uint8Array, at: number): Promise<void> {
    await this.withHandle(index, async (handle) => {
      let done = 0
      while (done < length) {
        const { bytesRead } = await handle.read(into, at + done, length - done, fileOffset + done)
        if (bytesRead === 0) break
        done += bytesRead
      }
      into.fill(0, at + done, at + length)
    })
  }

  async close (): Promise<void> {
    const handles = [...this.handles.values()]
    this.handles.clear()
    await Promise.all(handles.map(async (entry) => await (await entry.file.catch(() => undefined))?.close()))
  }

  /** Each existing step of the path must be a folder (or, at the end, a regular file), none a symlink. */
  private async check (segments: readonly string[]): Promise<void> {
    let path = this.root
    for (const [depth, segment] of segments.entries()) {
      path = join(path, segment)
      const stats = await lstat(path).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return undefined
        throw ioError(error, path)
      })
      if (stats === undefined) return
      const last = depth === segments.length - 1
      if (stats.isSymbolicLink()) throw unsafePath(`${path} is a symlink in the destination folder`)
      if (last ? !stats.isFile() : !stats.isDirectory()) throw unsafePath(`${path} exists and is not a ${last ? 'regular file' : 'folder'}`)
    }
  }

  private async create (index: number): Promise<void> {
    const { segments, length } = this.layout.files[index]!
    let path = this.root
    for (const segment of segments.slice(0, -1)) {
      path = join(path, segment)
      await mkdir(path).catch(async (error: NodeJS.ErrnoException) => {
        if (error.code !== 'EEXIST') throw ioError(error, path)
        // Planted between the check and now: still never followed.
        if (!(await lstat(path)).isDirectory()) throw unsafePath(`${path} is not a folder`)
      })
    }
    await this.withHandle(index, async (handle) => {
      if ((await handle.stat()).size !== length) await handle.truncate(length)
    })
  }

  /** Runs `use` on file `index`'s handle, opened if need be; a handle in use is never closed under it. */
  private async withHandle (index: number, use: (handle: FileHandle) => Promise<void>): Promise<void> {
    const entry = this.entry(index)
    entry.users++
    try {
      await use(await entry.file)
    } catch (error) {
      throw ioError(error, this.pathOf(index))
    } finally {
      entry.users--
      if (entry.closing && entry.users === 0) void entry.file.then(async (file) => await file.close(), () => undefined)
    }
  }

  private entry (index: number): OpenFile {
    const known = this.handles.get(index)
    if (known !== undefined) {
      this.handles.delete(index)
      this.handles.set(index, known)
      return known
    }
    for (const [other, entry] of this.handles) {
      if (this.handles.size < this.maxOpenFiles) break
      this.handles.delete(other)
      entry.closing = true
      if (entry.users === 0) void entry.file.then(async (file) => await file.close(), () => undefined)
    }
    const path = this.pathOf(index)
    const file = open(path, OPEN_FLAGS, 0o644).catch((error: NodeJS.ErrnoException) => {
      this.handles.delete(index)
      if (error.code === 'ELOOP') throw unsafePath(`${path} is a symlink in the destination folder`)
      throw error
    })
    file.catch(() => undefined)
    const entry: OpenFile = { file, users: 0, closing: false }
    this.handles.set(index, entry)
    return entry
  }
}

interface OpenFile {
  readonly file: Promise<FileHandle>
  users: number
  closing: boolean
}

function ioError (error: unknown, path: string): DownloadError {
  if (error instanceof DownloadError) return error
  const code = (error as NodeJS.ErrnoException).code ?? String(error)
  return new DownloadError('ET_DOWNLOAD_IO', `cannot write ${path} (${code})`, { path, cause: error })
}
