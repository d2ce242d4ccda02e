import { open } from 'node:fs/promises'
import type { PublishedFile } from '../catalog/catalog.js'
import { howFileChanged, type FileStats } from '../metainfo/file-change.js'
import { SeederError, TRANSIENT_ERRNO_CODES } from './errors.js'

/** The part of `fs.promises.FileHandle` the seeder reads with; tests inject failing fakes. */
export interface ContentFile {
  stat (): Promise<FileStats>
  read (buffer: Buffer, offset: number, length: number, position: number): Promise<{ readonly bytesRead: number }>
  close (): Promise<void>
}

export type OpenFile = (path: string) => Promise<ContentFile>

export const openReadOnly: OpenFile = async (path) => await open(path, 'r')

interface Entry {
  readonly key: string
  readonly handle: Promise<ContentFile>
  refs: number
  stale: boolean
}

/**
 * A small pool of open files, least recently used closed first. A file is only read while it is the
 * one hashed (`howFileChanged`): checked when it is opened and again after every read, so no byte of
 * a changed file goes out as the old torrent's content.
 */
export class FileHandleCache {
  private readonly maxOpen: number
  private readonly openFile: OpenFile
  private readonly entries = new Map<string, Entry>()
  private readonly closing = new Set<Promise<void>>()

  constructor (maxOpen: number, openFile: OpenFile = openReadOnly) {
    this.maxOpen = maxOpen
    this.openFile = openFile
  }

  get openCount (): number {
    return this.entries.size
  }

  /**
   * Fills `buffer[offset, offset + length)` from `position` of `file`, or throws a torrent error, or
   * ET_TRANSIENT when the system is short of file descriptors or memory (the file is opened again next time).
   */
  async read (file: PublishedFile, buffer: Buffer, offset: number, length: number, position: number): Promise<void> {
    const entry = this.acquire(file)
    try {
      const handle = await entry.handle
      let done = 0
      while (done < length) {
        const { bytesRead } = await handle.read(buffer, offset + done, length - done, position + done)
        if (bytesRead === 0) throw changed(file, 'it came up short while being read')
        done += bytesRead
      }
      await checkUnchanged(handle, file)
    } catch (error) {
      entry.stale = true
      throw asTorrentError(error, file.absolutePath)
    } finally {
      this.release(entry)
    }
  }

  /** Closes the handles of these files (at once, or when their reads finish). */
  forget (paths: Iterable<string>): void {
    const gone = new Set(paths)
    for (const entry of this.entries.values()) {
      if (gone.has(pathOf(entry.key))) {
        entry.stale = true
        if (entry.refs === 0) this.closeEntry(entry)
      }
    }
  }

  async close (): Promise<void> {
    for (const entry of [...this.entries.values()]) this.closeEntry(entry)
    await Promise.all(this.closing)
  }

  private acquire (file: PublishedFile): Entry {
    const key = `${file.absolutePath}\0${file.size}\0${file.mtimeMs}`
    let entry = this.entries.get(key)
    if (entry === undefined || entry.stale) {
      entry = { key, handle: this.openChecked(file), refs: 0, stale: false }
      entry.handle.catch(() => {})
    } else {
      this.entries.delete(key)
    }
    this.entries.set(key, entry)
    entry.refs++
    this.trim()
    return entry
  }

  private release (entry: Entry): void {
    entry.refs--
    if (entry.refs === 0 && entry.stale) this.closeEntry(entry)
    this.trim()
  }

  private trim (): void {
    for (const entry of this.entries.values()) {
      if (this.entries.size <= this.maxOpen) return
      if (entry.refs === 0) this.closeEntry(entry)
    }
  }

  private closeEntry (entry: Entry): void {
    if (this.entries.get(entry.key) === entry) this.entries.delete(entry.key)
    const closed = entry.handle.then(async (handle) => await handle.close(), () => {}).catch(() => {})
    this.closing.add(closed)
    void closed.finally(() => this.closing.delete(closed))
  }

  private async openChecked (file: PublishedFile): Promise<ContentFile> {
    const handle = await this.openFile(file.absolutePath)
    try {
      await checkUnchanged(handle, file)
    } catch (error) {
      await handle.close().catch(() => {})
      throw error
    }
    return handle
  }
}

async function checkUnchanged (handle: ContentFile, file: PublishedFile): Promise<void> {
  const change = howFileChanged(file, await handle.stat())
  if (change !== undefined) throw changed(file, change)
}

function changed (file: PublishedFile, detail: string): SeederError {
  return new SeederError('ET_FILE_CHANGED', `${file.absolutePath} changed after it was hashed: ${detail}; republish it`, { path: file.absolutePath })
}

function asTorrentError (error: unknown, path: string): SeederError {
  if (error instanceof SeederError) return error
  const code = (error as NodeJS.ErrnoException).code
  if (code !== undefined && TRANSIENT_ERRNO_CODES.has(code)) {
    return new SeederError('ET_TRANSIENT', `cannot read ${path} for now (${code}: the system is short of file descriptors or memory)`, { path, cause: error })
  }
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    return new SeederError('ET_FILE_MISSING', `${path} is gone (deleted, or its drive was removed)`, { path, cause: error })
  }
  const reason = error instanceof Error ? error.message : String(error)
  return new SeederError('ET_READ', `cannot read ${path} (${reason}); the drive may be failing or gone`, { path, cause: error })
}

function pathOf (key: string): string {
  return key.slice(0, key.indexOf('\0'))
}
