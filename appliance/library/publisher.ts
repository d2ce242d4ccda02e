import { EventEmitter } from 'node:events'
import { watch, type FSWatcher } from 'node:fs'
import { realpath } from 'node:fs/promises'
import { dirname, sep } from 'node:path'
import { isDeepStrictEqual } from 'node:util'
import type { Catalog, PublishedTorrent } from '../catalog/catalog.js'
import type { ItemStatus } from '../catalog/item-status.js'
import type { Settings } from '../config/settings.js'
import { listContent, requireBytes, type Content } from '../metainfo/content.js'
import { createTorrentOf } from '../metainfo/create-torrent.js'
import { inTreeOrder } from '../metainfo/piece-alignment.js'
import type { TorrentFormat } from '../metainfo/torrent-format.js'
import { MetainfoError } from '../metainfo/errors.js'
import { HashPool } from '../metainfo/piece-hasher.js'
import { encodeTorrentParts, sameOuterFields, type InfoHash, type Metainfo } from '../metainfo/metainfo.js'
import { listLibraryItems, type ItemProblem, type LibraryItem } from './library-items.js'
import { findWriters, type Writer } from './open-writers.js'
import { PausedItemsError, type PausedItems } from './paused-items.js'
import { contentSignature, type ContentSignature, type ResumeStore } from './resume-store.js'
import { isTransient } from './transient.js'

export interface PublisherEvents {
  item: [status: ItemStatus]
  /** The item is gone from its library; its torrent is no longer published. */
  removed: [path: string]
  published: [torrent: PublishedTorrent, status: ItemStatus]
  /** A pass met a transient error (out of descriptors or memory): nothing was changed, and it is tried again shortly. Once per spell. */
  deferred: [problem: ItemProblem]
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
  /** The format of the torrents it makes (`hashing.format`); default v1. */
  readonly format?: TorrentFormat
  /**
   * False for a library that must not be read now: a drive's folder once it is unmounted is an empty
   * folder, and its items must go offline, not be forgotten. Default: every readable folder is available.
   */
  readonly isAvailable?: (library: string) => Promise<boolean>
  /** Full rescan period; new and removed top-level entries are also noticed at once by a folder watch. */
  readonly rescanIntervalMs: number
  /** How long new or changed content must stay unchanged before it is published (see `Publisher`); 0 publishes at once. */
  readonly settleMs: number
  /** Items a person paused (`pause`), kept across restarts; read before `start`. Without it, nothing can be paused. */
  readonly paused?: PausedItems
  /** An item with more files is in error (`ET_TOO_MANY_FILES`); default: `DEFAULT_MAX_FILES`. */
  readonly maxFilesPerItem?: number
  /** The clock of the rescan cost bound (`RELIST_MS_PER_FILE`); default `Date.now`. */
  readonly now?: () => number
}

/** The publisher's options from the settings table; the one place its keys are read (at start and on reload, see `Publisher.apply`). */
export function publisherOptionsFrom (settings: Settings): Pick<PublisherOptions, 'threads' | 'format' | 'rescanIntervalMs' | 'settleMs' | 'maxFilesPerItem'> {
  const threads = settings['hashing.threads']
  return {
    ...(threads > 0 && { threads }),
    format: settings['hashing.format'],
    maxFilesPerItem: settings['library.max_files_per_item'],
    rescanIntervalMs: settings['library.rescan_interval'] * 1000,
    settleMs: settings['library.settle_seconds'] * 1000
  }
}

interface ItemRecord {
  status: ItemStatus
  signature?: ContentSignature
  /** The content's `lastChange` fingerprint, and when it was first seen so (the settle rule). */
  observed?: { readonly fingerprint: string, readonly since: number }
  /** When its content was last listed (`now()`), and how many files it held then: the rescan cost bound. */
  listed?: { readonly at: number, readonly files: number }
}

/** A pass that met a transient error is tried again this much later. */
const TRANSIENT_RETRY_MS = 5000
/**
 * A published item is listed again by a periodic pass only once this long per file it holds has
 * passed since its last listing: 100,000 files, which take 1.5 s to list here and several times that
 * on a Pi, every 200 s rather than every `library.rescan_interval`, so rescanning an unchanged library
 * stays a small share of a slow CPU. By file count, not by a listing's measured time, which a busy
 * box would inflate. Passes asked for (`rescan`: the page's action, a file found changed) list everything.
 */
export const RELIST_MS_PER_FILE = 2
/**
 * Folder watch events (one per write(2) into a top-level file while it is being copied) start a
 * pass this much later, so a copy costs a few passes a second rather than passes back to back.
 */
const WATCH_COALESCE_MS = 250
/** Items whose file is open for writing, or changed while being hashed, are looked at again after at least this long. */
const MIN_RECHECK_MS = 1000
/**
 * How long one look at who writes what (`findWriters`) answers for: items settling together (200
 * files copied at once) share a look instead of taking 25 to 50 ms each (measured: 200 new items
 * took 8 to 13 s longer to publish, one look each, on a loaded 2-core machine).
 */
const WRITERS_LOOK_MS = 1000

/**
 * Turns library folders into published torrents: every top-level entry is scanned, resumed from the
 * state directory or hashed (one at a time, on every core), and put in the catalog. Rescans notice
 * new, changed and removed items; a changed item is unpublished at once and republished under its new
 * infohash once hashed.
 *
 * The settle rule: new or changed content is hashed only once it is settled, so that a file being
 * copied in is never published half-written (each partial torrent would be a dead magnet link). It is
 * `waiting` until then, and looked at again by a timer when it could have settled. Settled means:
 * - the newest mtime and ctime of everything in it (files, folders, temporaries) are `settleMs` old.
 *   The ctime is the kernel's own clock, set on every write, truncate, rename and utimes and never by
 *   a program: `cp -a` and rsync give a file an old mtime only at the end, which sets its ctime
 *   (measured: after `cp -a` of a file dated 2020, the copy's ctime is the moment the copy ended). A
 *   folder's times change when an entry is added, removed or renamed in it, so its set of files
 *   counts too. Or,
 * - its fingerprint (paths, sizes, mtimes, ctimes, inodes) has not changed for `settleMs` of
 *   observation: this covers timestamps in the future (a drive written on a computer whose clock was
 *   ahead, a Raspberry Pi booted before its clock was set), which would otherwise never grow old.
 * Then, on Linux, no visible process may have a file of it open for writing (`findWriters`): that
 * catches a copy paused for longer than the settle time. A file that changes while it is hashed sends
 * the item back to `waiting`. Content resumed from the state directory is exactly what was hashed
 * before, and is published at once.
 */
export class Publisher extends EventEmitter<PublisherEvents> {
  private readonly items = new Map<string, ItemRecord>()
  private readonly watchers = new Map<string, FSWatcher>()
  private libraries: string[]
  /** The item being hashed, so pulling its drive (or pausing it) aborts it at once. */
  private hashing: { readonly library: string, readonly path: string, readonly controller: AbortController } | undefined
  private readonly pool: HashPool
  private timer: NodeJS.Timeout | undefined
  /** The pass running now, if any. */
  private scanning: Promise<void> | undefined
  /** The passes running now and those asked for meanwhile (`runPasses`). */
  private passes: Promise<void> | undefined
  /** A pass asked for while one runs: it follows that one (listing everything, if any asker wanted that). */
  private requested: { relistAll: boolean } | undefined
  private readonly now: () => number
  /** The one timer for passes asked for at a given time: settling items, watch events, retries. */
  private wake: { readonly at: number, readonly timer: NodeJS.Timeout, relistAll: boolean } | undefined
  /** Set while passes keep meeting a transient error, so it is reported once. */
  private deferred = false
  private writers: { readonly at: number, readonly found: readonly Writer[] } | undefined
  private closed = false
  private settleMs: number

  constructor (private options: PublisherOptions) {
    super()
    this.libraries = [...options.libraries]
    this.pool = new HashPool(options.threads)
    this.settleMs = options.settleMs
    this.now = options.now ?? Date.now
  }

  /** Starts watching and the first scan; resolves once every item is resumed, hashed, failed or waiting. */
  async start (): Promise<void> {
    this.watchLibraries()
    this.timer = setInterval(() => { void this.pass(false) }, this.options.rescanIntervalMs)
    this.timer.unref()
    await this.rescan()
  }

  statuses (): ItemStatus[] {
    return [...this.items.values()].map((record) => record.status)
  }

  /**
   * Scans all libraries once more, listing every item. A call while a pass runs asks for one more
   * after it, which calls meanwhile share; it resolves once that one is done too.
   */
  async rescan (): Promise<void> {
    await this.pass(true)
  }

  /** A pass; `relistAll` false (the periodic and watch passes) skips published items listed recently for their size (RELIST_MS_PER_FILE). */
  private async pass (relistAll: boolean): Promise<void> {
    if (this.closed) return
    if (this.passes !== undefined) {
      this.requested = { relistAll: relistAll || this.requested?.relistAll === true }
      return await this.passes
    }
    this.passes = this.runPasses(relistAll).finally(() => { this.passes = undefined })
    await this.passes
  }

  /** Runs a pass, then one more as long as one was asked for during the last. */
  private async runPasses (relistAll: boolean): Promise<void> {
    for (let next: { relistAll: boolean } | undefined = { relistAll }; next !== undefined && !this.closed; next = this.requested) {
      this.requested = undefined
      this.scanning = this.scanAll(next.relistAll)
      try {
        await this.scanning
      } finally {
        this.scanning = undefined
      }
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

  /**
   * Withdraws an item's torrent, as when its drive goes (the tracker refuses it, the seeder ends its
   * swarm, the web seed answers 404), and hashes nothing of it, until `resume`. Saved first, so a
   * restart right after keeps it paused. An item of a drive that is gone stays offline, and comes
   * back paused.
   */
  async pause (path: string): Promise<void> {
    const record = this.recordOf(path)
    await this.pausedItems().add(path)
    if (this.hashing?.path === path) this.hashing.controller.abort()
    if (record.status.state !== 'offline') this.withdraw(record, 'paused')
  }

  /** Publishes a paused item again; content unchanged since it was hashed comes from the resume store, unhashed. */
  async resume (path: string): Promise<void> {
    const record = this.recordOf(path)
    await this.pausedItems().delete(path)
    if (record.status.state === 'paused') this.setStatus(record.status, { state: 'queued', ...(record.status.totalBytes !== undefined && { totalBytes: record.status.totalBytes }) })
    await this.rescan()
  }

  /**
   * New settings while running (a config reload): a new rescan period counts from now; a new settle
   * time applies at once, a pass looking at the waiting items again. The hashing threads stay as started.
   */
  apply (settings: Settings): void {
    const { rescanIntervalMs, settleMs } = publisherOptionsFrom(settings)
    if (settleMs !== this.settleMs) {
      this.settleMs = settleMs
      this.wakeAt(Date.now())
    }
    if (rescanIntervalMs === this.options.rescanIntervalMs) return
    this.options = { ...this.options, rescanIntervalMs }
    if (this.timer === undefined || this.closed) return
    clearInterval(this.timer)
    this.timer = setInterval(() => { void this.pass(false) }, rescanIntervalMs)
    this.timer.unref()
  }

  async close (): Promise<void> {
    this.closed = true
    this.hashing?.controller.abort()
    clearInterval(this.timer)
    clearTimeout(this.wake?.timer)
    for (const watcher of this.watchers.values()) watcher.close()
    await this.scanning?.catch(() => {})
    await this.pool.close()
    await this.options.store.flush()
    await this.options.paused?.flush()
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
        const watcher = watch(library, { persistent: false }, () => { this.wakeAt(Date.now() + WATCH_COALESCE_MS) })
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

  /** Starts a pass at `at` (or sooner, if one is already asked for sooner); `relistAll` as for `pass`, kept if either asker wanted it. */
  private wakeAt (at: number, relistAll = false): void {
    if (this.closed) return
    if (this.wake !== undefined && this.wake.at <= at) {
      this.wake.relistAll ||= relistAll
      return
    }
    clearTimeout(this.wake?.timer)
    const timer = setTimeout(() => {
      const wanted = this.wake?.relistAll === true
      this.wake = undefined
      void this.pass(wanted)
    }, Math.max(0, at - Date.now()))
    timer.unref()
    this.wake = { at, timer, relistAll: relistAll || this.wake?.relistAll === true }
  }

  /**
   * One pass. A transient error (out of descriptors or memory) anywhere in it says nothing about the
   * content: the pass stops where it is, every item stays as it was (published stays published), and
   * another pass follows a few seconds later.
   */
  private async scanAll (relistAll: boolean): Promise<void> {
    try {
      await this.scanLibraries(relistAll)
      this.deferred = false
    } catch (error) {
      if (this.closed || !isTransient(error)) throw error
      if (!this.deferred) this.emit('deferred', describeError(error))
      this.deferred = true
      this.wakeAt(Date.now() + TRANSIENT_RETRY_MS, relistAll)
    }
  }

  private async scanLibraries (relistAll: boolean): Promise<void> {
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
      else this.withdraw(record, 'offline')
    }
    // Paused items deleted while the service was stopped are no record's business: forget them here.
    for (const path of this.options.paused?.items ?? []) {
      if (!present.has(path) && reachable.has(dirname(path))) this.options.paused!.forget(path)
    }
    for (const item of items) {
      if (!this.items.has(item.path)) this.setStatus(item, { state: this.isPaused(item.path) ? 'paused' : 'queued' })
    }
    for (const item of items) {
      if (this.closed) return
      if (!this.isPaused(item.path)) await this.refresh(item, relistAll)
      // Paused before it was looked at, or while: held, whatever the look did.
      if (this.isPaused(item.path)) this.withdraw(this.items.get(item.path)!, 'paused')
    }
  }

  private async refresh (item: LibraryItem, relistAll: boolean): Promise<void> {
    const record = this.items.get(item.path)!
    if (item.refused !== undefined) {
      this.unpublish(record)
      record.signature = undefined
      this.setStatus(item, { state: 'error', error: item.refused })
      return
    }
    // Published and listed lately for its size: this pass leaves it be (RELIST_MS_PER_FILE).
    if (!relistAll && record.signature !== undefined && record.listed !== undefined && this.now() - record.listed.at < RELIST_MS_PER_FILE * record.listed.files) return
    let content: Content
    try {
      content = await listContent(item.path, { ...(this.options.maxFilesPerItem !== undefined && { maxFiles: this.options.maxFilesPerItem }) })
      record.listed = { at: this.now(), files: content.files.length }
    } catch (error) {
      if (isTransient(error)) throw error
      this.unpublish(record)
      record.signature = undefined
      this.setStatus(item, { state: 'error', error: describeError(error) })
      return
    }
    const signature = contentSignature(content)
    if (record.signature === signature) return
    // Changed since it was published: its torrent no longer describes it.
    this.unpublish(record)
    record.signature = undefined
    if (record.status.state === 'seeding') this.setStatus(item, { state: 'queued', totalBytes: content.totalBytes })
    const stored = await this.options.store.lookup(item.path, signature)
    // Made in another format (hashing.format changed since): hashed again in this one.
    const resumed = stored?.format === (this.options.format ?? 'v1') ? stored : undefined
    if (resumed === undefined && !await this.isSettled(item, record, content)) return
    try {
      requireBytes(content)
    } catch (error) {
      this.setStatus(item, { state: 'error', error: describeError(error) })
      return
    }
    await this.publish(item, content, signature, resumed)
  }

  /** The settle rule (see the class comment); an item that is not settled is set `waiting` and looked at again when it could be. */
  private async isSettled (item: LibraryItem, record: ItemRecord, content: Content): Promise<boolean> {
    if (this.settleMs === 0) return true
    const now = Date.now()
    const { atMs, fingerprint } = content.lastChange
    if (record.observed?.fingerprint !== fingerprint) record.observed = { fingerprint, since: now }
    const { since } = record.observed
    if (atMs > now - this.settleMs && now - since < this.settleMs) {
      this.setStatus(item, { state: 'waiting', totalBytes: content.totalBytes })
      this.wakeAt(Math.min(atMs, since) + this.settleMs)
      return false
    }
    if (await this.writerOf(item) === undefined) return true
    // Closing a file makes no event a folder watch sees: poll until the writer is done.
    this.setStatus(item, { state: 'waiting', totalBytes: content.totalBytes })
    this.wakeAt(now + Math.max(this.settleMs, MIN_RECHECK_MS))
    return false
  }

  /** A process writing the item (`findWriters`), from a look at most `WRITERS_LOOK_MS` old. */
  private async writerOf (item: LibraryItem): Promise<Writer | undefined> {
    const now = Date.now()
    if (this.writers === undefined || now - this.writers.at > WRITERS_LOOK_MS) {
      const roots = await Promise.all(this.libraries.map(realOrGone))
      this.writers = { at: now, found: await findWriters(roots.filter((root) => root !== undefined)) }
    }
    const real = await realOrGone(item.path)
    if (real === undefined) return undefined
    return this.writers.found.find((writer) => writer.path === real || writer.path.startsWith(real + sep))
  }

  private async publish (item: LibraryItem, content: Content, signature: ContentSignature, resumed: Metainfo | undefined): Promise<void> {
    const record = this.setStatus(item, { state: 'queued', totalBytes: content.totalBytes })
    record.signature = signature
    try {
      const metainfo = resumed !== undefined ? this.withTrackers(resumed) : await this.hash(item, content)
      // Written as parts, not as one buffer: for 100,000 files that would be a copy of the 5 MB info
      // dictionary, left for a garbage collector that an idle service seldom runs.
      if (resumed === undefined) await this.options.store.remember(item.path, signature, metainfo.infoHash, encodeTorrentParts(metainfo))
      else if (!sameOuterFields(resumed, metainfo)) await this.options.store.rewriteTorrent(metainfo.infoHash, encodeTorrentParts(metainfo))
      // Paused meanwhile: remembered (resuming it will not hash it again), but not published.
      if (this.isPaused(item.path)) {
        record.signature = undefined
        return
      }
      const published: PublishedTorrent = {
        metainfo,
        // Hybrid and v2 torrents list their files in file tree order (see createTorrentOf).
        files: metainfo.format === 'v1' ? content.files : inTreeOrder(content.files)
      }
      this.options.catalog.add(published)
      const status = this.setStatus(item, { state: 'seeding', infoHash: metainfo.infoHash, totalBytes: content.totalBytes, resumed: resumed !== undefined }).status
      this.emit('published', published, status)
    } catch (error) {
      if (this.closed) return
      record.signature = undefined
      // Its hashing was aborted by `pause`: the pass holds it.
      if (this.isPaused(item.path)) return
      if (isTransient(error)) {
        this.setStatus(item, { state: 'queued', totalBytes: content.totalBytes })
        throw error
      }
      if (changedUnderneath(error)) {
        // Still being written after all: settle again, from now.
        record.observed = undefined
        this.setStatus(item, { state: 'waiting', totalBytes: content.totalBytes })
        this.wakeAt(Date.now() + Math.max(this.settleMs, MIN_RECHECK_MS))
        return
      }
      this.setStatus(item, { state: 'error', error: describeError(error) })
    }
  }

  private async hash (item: LibraryItem, content: Content): Promise<Metainfo> {
    this.setStatus(item, { state: 'hashing', bytesHashed: 0, totalBytes: content.totalBytes })
    const controller = new AbortController()
    this.hashing = { library: item.library, path: item.path, controller }
    try {
      const { metainfo } = await createTorrentOf(content, {
        createdBy: this.options.createdBy,
        ...(this.options.format !== undefined && { format: this.options.format }),
        signal: controller.signal,
        pool: this.pool,
        onProgress: ({ bytesHashed, totalBytes }) => this.setStatus(item, { state: 'hashing', bytesHashed, totalBytes })
      })
      // Stamped once hashed, as it is published: the feeds' publish time, kept in its .torrent across restarts.
      return this.withTrackers({ ...metainfo, creationDate: Math.floor(Date.now() / 1000) })
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

  /**
   * Its drive is gone (`offline`) or it is paused: withdraw the torrent, keep the record and the
   * resume entry for its return.
   */
  private withdraw (record: ItemRecord, state: 'offline' | 'paused'): void {
    if (record.status.state === state) return
    this.unpublish(record)
    record.signature = undefined
    const { path, name, library } = record.status
    this.setStatus({ path, name, library }, {
      state,
      ...(record.status.infoHash !== undefined && { infoHash: record.status.infoHash }),
      ...(record.status.totalBytes !== undefined && { totalBytes: record.status.totalBytes })
    })
  }

  private removeItem (path: string): void {
    const record = this.items.get(path)
    this.unpublish(record)
    this.items.delete(path)
    this.options.store.forget(path)
    this.options.paused?.forget(path)
    this.emit('removed', path)
  }

  private isPaused (path: string): boolean {
    return this.options.paused?.has(path) === true
  }

  private pausedItems (): PausedItems {
    if (this.options.paused === undefined) throw new Error('this publisher keeps no paused items (no `paused` option)')
    return this.options.paused
  }

  private recordOf (path: string): ItemRecord {
    const record = this.items.get(path)
    if (record === undefined) throw new PausedItemsError('ET_UNKNOWN_ITEM', `${path} is no item of a library`, path)
    return record
  }

  /** Records the item's status; an 'item' event only when it differs from the one before, so every pass over unchanged items is silent. */
  private setStatus (item: LibraryItem, change: Omit<ItemStatus, 'path' | 'name' | 'library'>): ItemRecord {
    const status: ItemStatus = { path: item.path, name: item.name, library: item.library, ...change }
    const record = this.items.get(item.path) ?? { status }
    const unchanged = record.status !== status && isDeepStrictEqual(record.status, status)
    record.status = status
    this.items.set(item.path, record)
    if (!unchanged) this.emit('item', status)
    return record
  }
}

/** The real path, or undefined for a path gone meanwhile (the next look at it tells what happened). */
async function realOrGone (path: string): Promise<string | undefined> {
  try {
    return await realpath(path)
  } catch (error) {
    if (isTransient(error)) throw error
    return undefined
  }
}

/** The content is not as listed any more: a file grew, shrank, got a new mtime or vanished while it was read. */
function changedUnderneath (error: unknown): boolean {
  return error instanceof MetainfoError && (error.code === 'ET_CHANGED' || error.code === 'ET_PATH_MISSING')
}

function describeError (error: unknown): ItemProblem {
  if (error instanceof MetainfoError) return { code: error.code, message: error.message }
  const code = (error as NodeJS.ErrnoException).code
  return { code: typeof code === 'string' ? code : 'ET_INTERNAL', message: error instanceof Error ? error.message : String(error) }
}
