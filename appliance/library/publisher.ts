import { EventEmitter } from 'node:events'
import { watch, type FSWatcher } from 'node:fs'
import type { Catalog, PublishedTorrent } from '../catalog/catalog.js'
import { scanContent, type Content } from '../metainfo/content.js'
import { createTorrentOf } from '../metainfo/create-torrent.js'
import { MetainfoError } from '../metainfo/errors.js'
import { HashPool } from '../metainfo/piece-hasher.js'
import { encodeTorrent, type InfoHash, type Metainfo } from '../metainfo/metainfo.js'
import { listLibraryItems, type LibraryItem } from './library-items.js'
import { contentSignature, type ContentSignature, type ResumeStore } from './resume-store.js'

/** `offline`: its library (a drive) is gone; the torrent is withdrawn but remembered, and comes back without rehashing. */
export type ItemState = 'queued' | 'hashing' | 'seeding' | 'offline' | 'error'

/** What the status model learns about one library item. */
export interface ItemStatus {
  readonly path: string
  readonly name: string
  readonly library: string
  readonly state: ItemState
  readonly infoHash?: InfoHash
  readonly bytesHashed?: number
  readonly totalBytes?: number
  readonly error?: { readonly code: string, readonly message: string }
  /** True when the torrent came from the resume store without hashing. */
  readonly resumed?: boolean
}

export interface PublisherEvents {
  item: [status: ItemStatus]
  /** The item is gone from its library; its torrent is no longer published. */
  removed: [path: string]
  published: [torrent: PublishedTorrent, status: ItemStatus]
}

export interface PublisherOptions {
  /** The library folders at start; `setLibraries` changes them (drives come and go). */
  readonly libraries: readonly string[]
  readonly catalog: Catalog
  readonly store: ResumeStore
  /** Outer torrent fields for a given infohash: trackers (BEP 12) and web seeds (BEP 19). */
  readonly trackersFor: (infoHash: InfoHash) => { announceList: string[][], urlList: string[] }
  readonly createdBy: string
  readonly threads?: number
  /**
   * False for a library that must not be read now: a drive's folder once it is unmounted is an empty
   * folder, and its items must go offline, not be forgotten. Default: every readable folder is available.
   */
  readonly isAvailable?: (library: string) => Promise<boolean>
  /** Full rescan period; new and removed top-level entries are also noticed at once by a folder watch. */
  readonly rescanIntervalMs: number
}

interface ItemRecord {
  status: ItemStatus
  signature?: ContentSignature
}

/**
 * Turns library folders into published torrents: every top-level entry is scanned, resumed from the
 * state directory or hashed (one at a time, on every core), and put in the catalog. Rescans notice
 * new, changed and removed items; a changed item is unpublished at once and republished under its new
 * infohash once hashed.
 */
export class Publisher extends EventEmitter<PublisherEvents> {
  private readonly items = new Map<string, ItemRecord>()
  private readonly watchers = new Map<string, FSWatcher>()
  private libraries: string[]
  /** The item being hashed, so pulling its drive aborts it at once. */
  private hashing: { readonly library: string, readonly controller: AbortController } | undefined
  private readonly pool: HashPool
  private timer: NodeJS.Timeout | undefined
  private scanning: Promise<void> | undefined
  private rescanRequested = false
  private closed = false

  constructor (private options: PublisherOptions) {
    super()
    this.libraries = [...options.libraries]
    this.pool = new HashPool(options.threads)
  }

  /** Starts watching and the first scan; resolves once every item is resumed, hashed or failed. */
  async start (): Promise<void> {
    this.watchLibraries()
    this.timer = setInterval(() => { void this.rescan() }, this.options.rescanIntervalMs)
    this.timer.unref()
    await this.rescan()
  }

  statuses (): ItemStatus[] {
    return [...this.items.values()].map((record) => record.status)
  }

  /** Scans all libraries once more; concurrent calls share one pass (plus one more if asked during it). */
  async rescan (): Promise<void> {
    if (this.closed) return
    if (this.scanning !== undefined) {
      this.rescanRequested = true
      return await this.scanning
    }
    this.scanning = this.scanAll().finally(() => { this.scanning = undefined })
    await this.scanning
    if (this.rescanRequested && !this.closed) {
      this.rescanRequested = false
      await this.rescan()
    }
  }

  /**
   * Replaces the library folders. Items of a folder that left the list go offline (their torrents are
   * withdrawn but remembered); a folder that comes back is published again without rehashing.
   */
  async setLibraries (libraries: readonly string[]): Promise<void> {
    this.libraries = [...libraries]
    if (this.hashing !== undefined && !this.libraries.includes(this.hashing.library)) this.hashing.controller.abort()
    this.watchLibraries()
    await this.rescan()
  }

  /** Changes the period of full rescans (a config reload); the next one comes a full period from now. */
  setRescanInterval (ms: number): void {
    this.options = { ...this.options, rescanIntervalMs: ms }
    if (this.timer === undefined || this.closed) return
    clearInterval(this.timer)
    this.timer = setInterval(() => { void this.rescan() }, ms)
    this.timer.unref()
  }

  async close (): Promise<void> {
    this.closed = true
    this.hashing?.controller.abort()
    clearInterval(this.timer)
    for (const watcher of this.watchers.values()) watcher.close()
    await this.scanning?.catch(() => {})
    await this.pool.close()
    await this.options.store.flush()
  }

  private watchLibraries (): void {
    for (const [library, watcher] of this.watchers) {
      if (this.libraries.includes(library)) continue
      watcher.close()
      this.watchers.delete(library)
    }
    for (const library of this.libraries) {
      if (this.watchers.has(library)) continue
      try {
        const watcher = watch(library, { persistent: false }, () => { void this.rescan() })
        watcher.on('error', () => {
          watcher.close()
          this.watchers.delete(library)
        })
        this.watchers.set(library, watcher)
      } catch {
        // A library folder that does not exist yet is picked up by the periodic rescan.
      }
    }
  }

  private async scanAll (): Promise<void> {
    const items: LibraryItem[] = []
    const reachable = new Set<string>()
    for (const library of this.libraries) {
      const listed = await this.options.isAvailable?.(library) === false ? undefined : await listLibraryItems(library)
      if (listed === undefined) continue
      reachable.add(library)
      items.push(...listed)
    }
    const present = new Set(items.map((item) => item.path))
    for (const [path, record] of [...this.items]) {
      if (present.has(path)) continue
      if (reachable.has(record.status.library)) this.removeItem(path)
      else this.takeOffline(record)
    }
    for (const item of items) {
      if (!this.items.has(item.path)) this.setStatus(item, { state: 'queued' })
    }
    for (const item of items) {
      if (this.closed) return
      await this.refresh(item)
    }
  }

  private async refresh (item: LibraryItem): Promise<void> {
    const record = this.items.get(item.path)
    let content: Content
    try {
      content = await scanContent(item.path)
    } catch (error) {
      this.unpublish(record)
      this.setStatus(item, { state: 'error', error: describeError(error) })
      return
    }
    const signature = contentSignature(content)
    if (record?.signature === signature) return
    this.unpublish(record)
    await this.publish(item, content, signature)
  }

  private async publish (item: LibraryItem, content: Content, signature: ContentSignature): Promise<void> {
    const record = this.setStatus(item, { state: 'queued', totalBytes: content.totalBytes })
    record.signature = signature
    try {
      const resumed = await this.options.store.lookup(item.path, signature)
      const metainfo = resumed !== undefined ? this.withTrackers(resumed) : await this.hash(item, content)
      const torrent = encodeTorrent(metainfo)
      if (resumed !== undefined) await this.options.store.rewriteTorrent(metainfo.infoHash, torrent)
      else await this.options.store.remember(item.path, signature, metainfo.infoHash, torrent)
      const published: PublishedTorrent = {
        metainfo,
        files: content.files.map((file) => ({ absolutePath: file.absolutePath, size: file.size, mtimeMs: file.mtimeMs }))
      }
      this.options.catalog.add(published)
      const status = this.setStatus(item, { state: 'seeding', infoHash: metainfo.infoHash, totalBytes: content.totalBytes, resumed: resumed !== undefined }).status
      this.emit('published', published, status)
    } catch (error) {
      if (this.closed) return
      record.signature = undefined
      this.setStatus(item, { state: 'error', error: describeError(error) })
    }
  }

  private async hash (item: LibraryItem, content: Content): Promise<Metainfo> {
    this.setStatus(item, { state: 'hashing', bytesHashed: 0, totalBytes: content.totalBytes })
    const controller = new AbortController()
    this.hashing = { library: item.library, controller }
    try {
      const { metainfo } = await createTorrentOf(content, {
        createdBy: this.options.createdBy,
        creationDate: Math.floor(Date.now() / 1000),
        signal: controller.signal,
        pool: this.pool,
        onProgress: ({ bytesHashed, totalBytes }) => this.setStatus(item, { state: 'hashing', bytesHashed, totalBytes })
      })
      return this.withTrackers(metainfo)
    } finally {
      this.hashing = undefined
    }
  }

  private withTrackers (metainfo: Metainfo): Metainfo {
    return { ...metainfo, ...this.options.trackersFor(metainfo.infoHash) }
  }

  private unpublish (record: ItemRecord | undefined): void {
    const infoHash = record?.status.infoHash
    if (infoHash !== undefined) this.options.catalog.remove(infoHash)
  }

  /** Its drive is gone: withdraw the torrent, keep the record and the resume entry for its return. */
  private takeOffline (record: ItemRecord): void {
    if (record.status.state === 'offline') return
    this.unpublish(record)
    record.signature = undefined
    const { path, name, library } = record.status
    this.setStatus({ path, name, library }, {
      state: 'offline',
      ...(record.status.infoHash !== undefined && { infoHash: record.status.infoHash }),
      ...(record.status.totalBytes !== undefined && { totalBytes: record.status.totalBytes })
    })
  }

  private removeItem (path: string): void {
    const record = this.items.get(path)
    this.unpublish(record)
    this.items.delete(path)
    this.options.store.forget(path)
    this.emit('removed', path)
  }

  private setStatus (item: LibraryItem, change: Omit<ItemStatus, 'path' | 'name' | 'library'>): ItemRecord {
    const status: ItemStatus = { path: item.path, name: item.name, library: item.library, ...change }
    const record = this.items.get(item.path) ?? { status }
    record.status = status
    this.items.set(item.path, record)
    this.emit('item', status)
    return record
  }
}

function describeError (error: unknown): { code: string, message: string } {
  if (error instanceof MetainfoError) return { code: error.code, message: error.message }
  const code = (error as NodeJS.ErrnoException).code
  return { code: typeof code === 'string' ? code : 'ET_INTERNAL', message: error instanceof Error ? error.message : String(error) }
}
