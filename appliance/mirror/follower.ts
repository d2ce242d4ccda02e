import { createHash } from 'node:crypto'
import { mkdir, readFile, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { withForeignTrackers, type Catalog, type PublishedFile, type PublishedTorrent } from '../catalog/catalog.js'
import type { MirrorStatus } from '../catalog/mirror-status.js'
import type { MirrorEntry } from '../config/mirror-entries.js'
import { Download, type DownloadProgress } from '../download/download.js'
import type { DownloadLimits } from '../download/download-limits.js'
import { encodeTorrent, parseTorrent, type InfoHash, type Metainfo } from '../metainfo/metainfo.js'
import { writeFileAtomic } from '../platform/atomic-write.js'
import type { Logger } from '../platform/logger.js'
import { MirrorError } from './mirror-errors.js'
import { planMirror, type MirroredItem } from './mirror-plan.js'
import { readMirrorState, writeMirrorState, type HeldFile, type MirrorState } from './mirror-state.js'
import type { UpstreamSource } from './upstream-source.js'

/** A download that verifies nothing new for this long is stopped (kept for resuming) and the next item tried. */
export const MIRROR_STALL_MS = 5 * 60 * 1000
/** Refused entries remembered (so as to log each once); beyond it, more refusals are neither counted nor logged. */
export const MAX_REFUSALS_REMEMBERED = 10_000
/** How often a running download asks its source for peers again. */
export const MIRROR_PEERS_EVERY_MS = 60 * 1000

export interface FollowerOptions {
  readonly entry: MirrorEntry
  readonly source: UpstreamSource
  /** `<state dir>/mirrors`: the state file and, per item, its .torrent and resume state. */
  readonly stateFolder: string
  readonly catalog: Catalog
  /** This box's tracker and web seed for a torrent (see TorrentUrls.trackersFor). */
  readonly trackersFor: (infoHash: InfoHash) => { announceList: string[][], urlList: string[] }
  readonly downloadLimits: Partial<DownloadLimits>
  readonly log: Logger['log']
  readonly now?: () => number
}

/** A mirror as `/api/status` shows it (docs/api.md). */
export type MirrorSnapshot = MirrorStatus

/**
 * Follows one `[[mirror]]`: polls its source, plans what to hold (`planMirror`), downloads what it
 * lacks one item at a time into `<folder>/<infohash>/`, deletes what the plan drops, and publishes
 * each completed item in the Catalog (the origin's info dictionary, this box's tracker and web seed
 * added). A failed poll or download changes nothing held; the next poll tries again.
 */
export class Follower {
  readonly id: string
  private readonly stateFile: string
  private readonly itemsFolder: string
  private state: MirrorState
  private readonly published = new Map<string, PublishedTorrent>()
  private readonly refusedHashes = new Set<string>()
  private refused = { count: 0, lastReason: undefined as string | undefined }
  private dropped = { count: 0, lastReason: undefined as string | undefined }
  private lastUpdateAt: number | undefined
  private lastError: { code: string, message: string } | undefined
  private current: { item: MirroredItem, download: Download | undefined, progress?: DownloadProgress } | undefined
  private timer: NodeJS.Timeout | undefined
  private readonly abort = new AbortController()
  private polling: Promise<void> | undefined
  private working: Promise<void> | undefined
  /** The infohashes the last plan keeps. */
  private keep = new Set<string>()
  /** Items tried (and failed) since the last poll: tried again after the next one. */
  private readonly tried = new Set<string>()
  /** Items held when 'mirror up to date' was last logged: one line per change, not per poll. */
  private heldLogged = -1
  private closed = false

  constructor (private readonly options: FollowerOptions) {
    const { entry, source } = options
    this.id = createHash('sha1').update(`${source.origin}\n${entry.folder}`).digest('hex').slice(0, 16)
    this.stateFile = join(options.stateFolder, `${this.id}.json`)
    this.itemsFolder = join(options.stateFolder, this.id)
    this.state = { origin: source.origin, items: [], complete: {} }
  }

  /** Reads the state, publishes the completed items again (no download, no hashing), then polls. */
  async start (): Promise<void> {
    await mkdir(this.itemsFolder, { recursive: true })
    await mkdir(this.options.entry.folder, { recursive: true })
    const read = await readMirrorState(this.stateFile, this.options.source.origin)
    if ('refused' in read) {
      this.log('warn', 'mirror state refused: starting afresh (items on disk are verified again as they download)', { reason: read.refused })
    } else {
      this.state = read
    }
    for (const infoHash of Object.keys(this.state.complete)) await this.restore(infoHash)
    this.log('info', 'mirror restored', { items: this.published.size })
    this.schedule(0)
  }

  snapshot (): MirrorSnapshot {
    const held = this.state.items.filter((item) => this.published.has(item.infoHash))
    const current = this.current
    return {
      origin: this.options.source.origin,
      items: held.length,
      bytes: held.reduce((sum, item) => sum + item.bytes, 0),
      ...(this.lastUpdateAt !== undefined && { lastUpdateAt: this.lastUpdateAt }),
      ...(this.lastError !== undefined && { lastError: this.lastError }),
      refused: { count: this.refused.count, ...(this.refused.lastReason !== undefined && { lastReason: this.refused.lastReason }) },
      dropped: { count: this.dropped.count, ...(this.dropped.lastReason !== undefined && { lastReason: this.dropped.lastReason }) },
      ...(current !== undefined && {
        downloading: { name: current.item.name, verifiedBytes: current.progress?.verifiedBytes ?? 0, totalBytes: current.progress?.totalBytes ?? current.item.bytes, peers: current.progress?.peers ?? 0 }
      })
    }
  }

  async close (): Promise<void> {
    this.closed = true
    clearTimeout(this.timer)
    this.abort.abort()
    await this.current?.download?.close()
    await this.polling
    await this.working
  }

  /** Polls every poll_seconds, downloads or not: a new item is planned (and an old one dropped) while a large one downloads. */
  private schedule (delayMs: number): void {
    if (this.closed) return
    clearTimeout(this.timer)
    this.timer = setTimeout(() => {
      this.polling = this.pollOnce().finally(() => {
        this.polling = undefined
        this.schedule(this.options.entry.pollSeconds * 1000)
      })
    }, delayMs)
  }

  private async pollOnce (): Promise<void> {
    try {
      await this.poll()
    } catch (error) {
      this.failed('mirror poll failed; trying again at the next poll', error)
      return
    }
    this.working ??= this.fetchWanted().finally(() => { this.working = undefined })
  }

  /** The downloads the last plan calls for, one at a time. */
  private async fetchWanted (): Promise<void> {
    for (;;) {
      if (this.closed) return
      const next = this.state.items.find((item) => this.wanted(item))
      if (next === undefined) break
      await this.fetch(next)
    }
    const held = [...this.keep].filter((infoHash) => this.published.has(infoHash)).length
    if (held !== this.heldLogged) {
      this.heldLogged = held
      this.log('info', 'mirror up to date', { held, kept: this.keep.size, refused: this.refused.count })
    }
  }

  private wanted (item: MirroredItem): boolean {
    return this.keep.has(item.infoHash) && !this.published.has(item.infoHash) && !this.refusedHashes.has(item.infoHash) && !this.tried.has(item.infoHash)
  }

  private async poll (): Promise<void> {
    const listing = await this.options.source.list(this.abort.signal)
    this.lastUpdateAt = this.now()
    this.lastError = undefined
    for (const reason of listing.refused) this.refuse(undefined, reason)
    const plan = planMirror(this.state.items, listing.items, this.now(), this.options.entry)
    // Kept first: a download finishing meanwhile checks it before publishing.
    this.keep = new Set(plan.keep.map((item) => item.infoHash))
    for (const { item, reason } of plan.drop) {
      const held = this.published.has(item.infoHash) || this.state.complete[item.infoHash] !== undefined
      await this.discard(item.infoHash)
      if (!held) continue
      const why = reason === 'over-quota' ? `over max_bytes ${this.options.entry.maxBytes}` : `no longer published upstream for ${this.options.entry.keepDays} days`
      this.dropped = { count: this.dropped.count + 1, lastReason: `${item.name} (${item.infoHash}): ${why}` }
      this.log('warn', 'mirror item dropped', { infohash: item.infoHash, name: item.name, size: item.bytes, reason, why })
    }
    this.tried.clear()
    // Read after the deletions: a download may have completed while they ran.
    const dropped = new Set(plan.drop.map(({ item }) => item.infoHash))
    const complete = Object.fromEntries(Object.entries(this.state.complete).filter(([infoHash]) => !dropped.has(infoHash)))
    this.state = { origin: this.state.origin, items: plan.items, complete }
    await this.save()
  }

  private async fetch (item: MirroredItem): Promise<void> {
    const infoHash = item.infoHash as InfoHash
    this.tried.add(infoHash)
    this.current = { item, download: undefined }
    const signal = this.abort.signal
    let peersTimer: NodeJS.Timeout | undefined
    let stallTimer: NodeJS.Timeout | undefined
    try {
      const torrent = await this.torrentOf(item)
      if (this.closed) return
      const download = new Download({
        infoHash,
        ...(torrent !== undefined && { metainfo: torrent }),
        folder: join(this.options.entry.folder, infoHash),
        resumePath: join(this.itemsFolder, `${infoHash}.resume`),
        limits: this.options.downloadLimits
      })
      this.current = { item, download }
      let verified = -1
      const stalled = (): void => {
        const now = download.progress.verifiedBytes
        if (now === verified) void download.close()
        verified = now
      }
      stallTimer = setInterval(stalled, MIRROR_STALL_MS)
      download.on('progress', (progress) => { if (this.current !== undefined) this.current.progress = progress })
      download.on('metadata', (metainfo) => { void this.saveTorrent(infoHash, torrent ?? metainfo) })
      this.log('info', 'mirror downloading', { infohash: infoHash, name: item.name, size: item.bytes })
      await download.start()
      const askPeers = async (): Promise<void> => {
        try {
          download.addPeers(await this.options.source.peersOf(item, torrent, signal))
        } catch { /* no peers this time; web seeds and the next ask may do */ }
      }
      void askPeers()
      peersTimer = setInterval(() => { void askPeers() }, MIRROR_PEERS_EVERY_MS)
      const result = await download.finished
      if (!this.keep.has(infoHash)) {
        await this.discard(infoHash)
        return
      }
      const files = await this.heldFiles(infoHash, result.metainfo)
      this.state = { ...this.state, complete: { ...this.state.complete, [infoHash]: files } }
      await this.save()
      await rm(join(this.itemsFolder, `${infoHash}.resume`), { force: true })
      this.publish(result.metainfo, files)
      this.log('info', 'mirror item complete', { infohash: infoHash, name: result.metainfo.name, size: result.metainfo.totalBytes, resumed_pieces: result.resumedPieces, received_bytes: result.receivedBytes })
    } catch (error) {
      if (error instanceof MirrorError && error.code === 'ET_MIRROR_REFUSED') this.refuse(infoHash, error.message)
      else if (!this.closed && this.keep.has(infoHash)) this.failed('mirror download stopped; trying again after the next poll', error, { infohash: infoHash, name: item.name })
    } finally {
      clearInterval(peersTimer)
      clearInterval(stallTimer)
      await this.current?.download?.close()
      this.current = undefined
    }
  }

  /** The item's .torrent: the one saved before (state dir), or the source's, checked and saved. */
  private async torrentOf (item: MirroredItem): Promise<Uint8Array | undefined> {
    const saved = join(this.itemsFolder, `${item.infoHash}.torrent`)
    try {
      const bytes = await readFile(saved)
      if (parseTorrent(bytes).infoHash === item.infoHash) return bytes
    } catch { /* none saved yet, or damaged: fetched again */ }
    const bytes = await this.options.source.torrentOf(item, this.abort.signal)
    if (bytes !== undefined) await writeFileAtomic(saved, bytes)
    return bytes
  }

  private async saveTorrent (infoHash: string, torrent: Uint8Array | Metainfo): Promise<void> {
    if (torrent instanceof Uint8Array) return
    await writeFileAtomic(join(this.itemsFolder, `${infoHash}.torrent`), encodeTorrent(torrent)).catch(() => undefined)
  }

  /** The item's files as they are now on disk, to be trusted after a restart while they stay so. */
  private async heldFiles (infoHash: string, metainfo: Metainfo): Promise<HeldFile[]> {
    const files: HeldFile[] = []
    for (const relative of relativePaths(metainfo)) {
      const info = await stat(join(this.options.entry.folder, infoHash, relative))
      files.push({ path: relative, size: info.size, mtimeMs: info.mtimeMs })
    }
    return files
  }

  /** A completed item at start: published again if its .torrent is there and its files are as recorded. */
  private async restore (infoHash: string): Promise<void> {
    const recorded = this.state.complete[infoHash]!
    let metainfo: Metainfo
    try {
      metainfo = parseTorrent(await readFile(join(this.itemsFolder, `${infoHash}.torrent`)))
      const paths = relativePaths(metainfo)
      if (metainfo.infoHash !== infoHash || paths.length !== recorded.length) throw new Error('the .torrent does not match the record')
      for (const [index, file] of recorded.entries()) {
        const info = await stat(join(this.options.entry.folder, infoHash, file.path))
        if (file.path !== paths[index] || info.size !== file.size || info.mtimeMs !== file.mtimeMs) throw new Error(`${file.path} changed since it was verified`)
      }
    } catch (error) {
      const { [infoHash]: _, ...rest } = this.state.complete
      this.state = { ...this.state, complete: rest }
      this.log('warn', 'mirror item changed on disk: downloading it again (verified pieces are kept)', { infohash: infoHash, error: error instanceof Error ? error.message : String(error) })
      return
    }
    this.publish(metainfo, recorded)
  }

  private publish (metainfo: Metainfo, files: readonly HeldFile[]): void {
    const foreignTrackers = { announceList: metainfo.announceList, urlList: metainfo.urlList }
    const published: PublishedTorrent = {
      metainfo: { ...metainfo, ...withForeignTrackers(this.options.trackersFor(metainfo.infoHash), foreignTrackers) },
      foreignTrackers,
      files: files.map((file): PublishedFile => ({ absolutePath: join(this.options.entry.folder, metainfo.infoHash, file.path), size: file.size, mtimeMs: file.mtimeMs }))
    }
    this.published.set(metainfo.infoHash, published)
    this.options.catalog.add(published)
  }

  /** Withdraws and deletes an item (its folder under the mirror's, its .torrent and resume state). */
  private async discard (infoHash: string): Promise<void> {
    const published = this.published.get(infoHash)
    if (published !== undefined && this.options.catalog.get(infoHash) === published) this.options.catalog.remove(infoHash)
    this.published.delete(infoHash)
    if (this.current?.item.infoHash === infoHash) await this.current.download?.close()
    // `infoHash` is 40 hex digits (checked where it came in): the path stays inside the mirror's folder.
    await rm(join(this.options.entry.folder, infoHash), { recursive: true, force: true })
    await rm(join(this.itemsFolder, `${infoHash}.torrent`), { force: true })
    await rm(join(this.itemsFolder, `${infoHash}.resume`), { force: true })
  }

  /** Each refused entry is counted and logged once (a malformed one by its reason), not at every poll. */
  private refuse (infoHash: string | undefined, reason: string): void {
    const key = infoHash ?? reason
    if (this.refusedHashes.has(key) || this.refusedHashes.size >= MAX_REFUSALS_REMEMBERED) return
    this.refusedHashes.add(key)
    this.refused = { count: this.refused.count + 1, lastReason: reason }
    this.log('warn', 'mirror entry refused', { ...(infoHash !== undefined && { infohash: infoHash }), reason })
  }

  private failed (msg: string, error: unknown, fields: Record<string, string> = {}): void {
    const code = typeof (error as { code?: unknown }).code === 'string' ? (error as { code: string }).code : 'ET_MIRROR_UNREACHABLE'
    const message = error instanceof Error ? error.message : String(error)
    this.lastError = { code, message }
    this.log('warn', msg, { ...fields, code, error: message })
  }

  private async save (): Promise<void> {
    await writeMirrorState(this.stateFile, this.state)
  }

  private log (level: 'info' | 'warn', msg: string, fields: Record<string, string | number | boolean | undefined> = {}): void {
    this.options.log(level, msg, { origin: this.options.source.origin, ...fields })
  }

  private now (): number {
    return (this.options.now ?? Date.now)()
  }
}

/** The paths of a torrent's files below `<folder>/<infohash>/`: its name, then each file's path. */
function relativePaths (metainfo: Metainfo): string[] {
  const paths: string[] = []
  for (let index = 0; index < metainfo.files.length; index++) {
    paths.push(metainfo.isMultiFile ? join(metainfo.name, ...metainfo.files.pathOf(index)) : metainfo.name)
  }
  return paths
}
