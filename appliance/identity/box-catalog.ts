import { createHash } from 'node:crypto'
import { EventEmitter } from 'node:events'
import { mkdir, readdir, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { Catalog, PublishedTorrent } from '../catalog/catalog.js'
import type { InfoHash, Metainfo } from '../metainfo/metainfo.js'
import { writeFileAtomic } from '../platform/atomic-write.js'
import { encodeCatalogDocument } from './catalog-document.js'
import { catalogTorrent } from './catalog-torrent.js'

/** The catalog is rebuilt at most this often: publishing 200 items at start makes a few catalogs, not 200. */
export const CATALOG_REBUILD_MS = 5000
/** A rebuild that failed (a full disk) is tried again this much later. */
const RETRY_MS = 30_000

export interface BoxCatalogOptions {
  readonly catalog: Catalog
  /** The box's public key, hex: written into the document, and part of the torrent's name. */
  readonly publicKeyHex: string
  /** The folder of the document's file (`<state dir>/catalog`): nothing else is kept there. */
  readonly folder: string
  readonly trackersFor: (infoHash: InfoHash) => Pick<Metainfo, 'announceList' | 'urlList'>
  readonly createdBy: string
  /** Default CATALOG_REBUILD_MS. */
  readonly rebuildMs?: number
}

export interface BoxCatalogEvents {
  /** A new catalog torrent is published (the old one withdrawn). */
  changed: [change: { readonly infoHash: InfoHash, readonly listed: number, readonly omitted: number }]
  warning: [warning: { readonly code: 'ET_CATALOG_WRITE', readonly message: string }]
}

/**
 * The box's catalog, published as a torrent of its own: the infohash, name and size of every public
 * torrent in the catalog (private ones, BEP 27, are not announced to strangers), one JSON file in
 * `folder`. It is put straight into the `Catalog`, marked `internal`, so the seeder, tracker, web
 * seed and DHT serve it like any torrent while no library, status item or feed lists it. Rebuilt when
 * published torrents come and go, at most once every `rebuildMs`.
 */
export class BoxCatalog extends EventEmitter<BoxCatalogEvents> {
  private current: { readonly torrent: PublishedTorrent, readonly digest: string } | undefined
  private timer: NodeJS.Timeout | undefined
  private lastBuildAt = 0
  private building: Promise<void> = Promise.resolve()
  private closed = false
  private readonly onChange = (torrent: PublishedTorrent): void => { if (torrent.internal !== true) this.schedule() }

  constructor (private readonly options: BoxCatalogOptions) {
    super()
  }

  /**
   * Follows the catalog's changes; the first catalog comes with the first change, or `publishNow`.
   * Not at once: at start nothing is published yet, and an empty catalog would be news to followers
   * (a new infohash, a new seq) for the seconds the library takes to resume.
   */
  async start (): Promise<void> {
    await mkdir(this.options.folder, { recursive: true })
    // Documents of an earlier run: the one needed is written again.
    for (const name of await readdir(this.options.folder)) await rm(join(this.options.folder, name), { force: true })
    this.options.catalog.on('added', this.onChange)
    this.options.catalog.on('removed', this.onChange)
    // As if one was built now: the items resumed during the first scan make one catalog, not one and then another.
    this.lastBuildAt = Date.now()
  }

  /** Publishes the catalog of what is published now (the library's first scan is done). */
  async publishNow (): Promise<void> {
    clearTimeout(this.timer)
    this.timer = undefined
    await this.rebuild()
  }

  /** The catalog torrent's infohash, once there is one. */
  get infoHash (): InfoHash | undefined {
    return this.current?.torrent.metainfo.infoHash
  }

  async close (): Promise<void> {
    this.closed = true
    clearTimeout(this.timer)
    this.options.catalog.off('added', this.onChange)
    this.options.catalog.off('removed', this.onChange)
    await this.building
  }

  private schedule (delayMs?: number): void {
    if (this.timer !== undefined || this.closed) return
    const rebuildMs = this.options.rebuildMs ?? CATALOG_REBUILD_MS
    const wait = delayMs ?? Math.max(0, this.lastBuildAt + rebuildMs - Date.now())
    this.timer = setTimeout(() => {
      this.timer = undefined
      void this.rebuild()
    }, wait)
  }

  private async rebuild (): Promise<void> {
    const run = this.building.then(async () => { await this.build() })
    this.building = run
    await run
  }

  private async build (): Promise<void> {
    if (this.closed) return
    this.lastBuildAt = Date.now()
    const entries = [...this.options.catalog.all()]
      .filter((torrent) => torrent.internal !== true && !torrent.metainfo.private)
      .map(({ metainfo }) => ({ infoHash: metainfo.infoHash, name: metainfo.name, size: metainfo.totalBytes }))
    const { bytes, listed, omitted } = encodeCatalogDocument(this.options.publicKeyHex, entries)
    const digest = createHash('sha1').update(bytes).digest('hex')
    if (digest === this.current?.digest) return
    const path = join(this.options.folder, `${digest}.json`)
    let mtimeMs: number
    try {
      await writeFileAtomic(path, bytes)
      mtimeMs = (await stat(path)).mtimeMs
    } catch (error) {
      this.emit('warning', { code: 'ET_CATALOG_WRITE', message: `cannot write the box's catalog ${path} (${(error as NodeJS.ErrnoException).code ?? String(error)}); the one published stays, and it is tried again in ${RETRY_MS / 1000} s` })
      this.schedule(RETRY_MS)
      return
    }
    if (this.closed) return
    const torrent = catalogTorrent(bytes, {
      name: `evertorrent-catalog-${this.options.publicKeyHex.slice(0, 16)}.json`,
      file: { absolutePath: path, mtimeMs },
      trackersFor: this.options.trackersFor,
      createdBy: this.options.createdBy
    })
    const previous = this.current
    this.current = { torrent, digest }
    this.options.catalog.add(torrent)
    if (previous !== undefined && previous.torrent.metainfo.infoHash !== torrent.metainfo.infoHash) {
      this.options.catalog.remove(previous.torrent.metainfo.infoHash)
      await rm(previous.torrent.files.at(0)!.absolutePath, { force: true })
    }
    this.emit('changed', { infoHash: torrent.metainfo.infoHash, listed, omitted })
  }
}
