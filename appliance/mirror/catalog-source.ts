import { mkdir, readFile, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { MutableStore } from '../dht/catalog-pointer.js'
import { PointerKeeper } from '../dht/pointer-keeper.js'
import { resolveCatalogPointer } from '../dht/resolve-catalog-pointer.js'
import type { SeenPointers } from '../dht/seen-pointers.js'
import { Download, type PeerEndpoint } from '../download/download.js'
import type { DownloadLimits } from '../download/download-limits.js'
import { MAX_CATALOG_BYTES, parseCatalogDocument, type CatalogDocument } from '../identity/catalog-document.js'
import type { InfoHash } from '../metainfo/metainfo.js'
import { MirrorError } from './mirror-errors.js'
import type { UpstreamItem } from './mirror-plan.js'
import type { UpstreamListing, UpstreamSource } from './upstream-source.js'

/** Peers taken from one DHT lookup at most. */
export const MAX_DHT_PEERS = 100
/** A DHT lookup, or the fetch of a catalog torrent, given up after this long (tried again at the next poll). */
const LOOKUP_TIMEOUT_MS = 30_000
const CATALOG_FETCH_MS = 120_000

export interface PeerFinder extends MutableStore {
  lookupPeers: (infoHash: InfoHash, max: number) => Promise<PeerEndpoint[]>
}

export interface CatalogSourceOptions {
  /** The followed box's public key, 64 hex digits. */
  readonly publicKey: string
  readonly dht: PeerFinder
  /** The record of the highest pointer seq believed per box (opened once, shared by the mirrors). */
  readonly seen: () => Promise<SeenPointers>
  /** Where catalog torrents are fetched to (one folder per box). */
  readonly folder: string
  readonly limits: Partial<DownloadLimits>
  /** The box's pointer is put again this often while followed (`identity.republish_interval`). */
  readonly republishMs: number
}

/**
 * A box followed by its public key alone: its BEP 46 pointer found in the DHT (signature checked,
 * never older than the last one believed), its catalog torrent fetched by infohash from the peers the
 * DHT names, the catalog document checked to be that key's. Each item is then fetched by infohash:
 * its info dictionary over BEP 9 from peers the DHT names (the origin's everseed among them).
 */
export class CatalogSource implements UpstreamSource {
  readonly origin: string
  private last: { infoHash: string, document: CatalogDocument } | undefined
  private readonly keeper: PointerKeeper

  constructor (private readonly options: CatalogSourceOptions) {
    this.origin = options.publicKey
    this.keeper = new PointerKeeper({ dht: options.dht, republishMs: options.republishMs })
  }

  async list (signal: AbortSignal): Promise<UpstreamListing> {
    const { publicKey } = this.options
    const seen = await this.options.seen()
    const resolution = await bounded(resolveCatalogPointer(this.options.dht, Buffer.from(publicKey, 'hex'), seen.lastSeq(publicKey)), LOOKUP_TIMEOUT_MS, signal, 'the DHT lookup of the catalog pointer')
    const refused = resolution.refused.map(({ from, reason }) => `catalog pointer from ${from} refused: ${reason}`)
    const found = resolution.found
    // The box's own pointer is kept alive by its followers too, so that it outlives the box's puts.
    void this.keeper.keepAlive(found?.item)
    if (found === undefined) {
      if (this.last !== undefined) return { items: itemsOf(this.last.document), refused }
      throw new MirrorError('ET_MIRROR_UNREACHABLE', `no DHT node has a catalog pointer of ${publicKey} (yet)`)
    }
    if (this.last?.infoHash !== found.infoHash) {
      const document = await this.fetchCatalog(found.infoHash, signal)
      if (document.publicKey !== publicKey) throw new MirrorError('ET_MIRROR_REFUSED', `the catalog ${found.infoHash} is ${document.publicKey}'s, not ${publicKey}'s`)
      this.last = { infoHash: found.infoHash, document }
    }
    await seen.remember(publicKey, found.seq)
    return { items: itemsOf(this.last.document), refused }
  }

  async torrentOf (): Promise<undefined> {
    return undefined
  }

  async peersOf (item: UpstreamItem, _torrent: Uint8Array | undefined, signal: AbortSignal): Promise<PeerEndpoint[]> {
    return await bounded(this.options.dht.lookupPeers(item.infoHash as InfoHash, MAX_DHT_PEERS), LOOKUP_TIMEOUT_MS, signal, 'a DHT peer lookup')
  }

  private async fetchCatalog (infoHash: InfoHash, signal: AbortSignal): Promise<CatalogDocument> {
    const folder = join(this.options.folder, infoHash)
    await mkdir(folder, { recursive: true })
    const download = new Download({ infoHash, folder, resumePath: join(this.options.folder, `${infoHash}.resume`), limits: { ...this.options.limits, maxMetadataBytes: 64 * 1024 } })
    const timer = setTimeout(() => { void download.close() }, CATALOG_FETCH_MS)
    const stop = (): void => { void download.close() }
    signal.addEventListener('abort', stop)
    try {
      await download.start()
      download.addPeers(await this.peersOf({ infoHash, name: 'catalog', bytes: 0 }, undefined, signal))
      const result = await download.finished
      const file = result.files[0]
      if (result.files.length !== 1 || file === undefined) throw new MirrorError('ET_MIRROR_REFUSED', `the catalog torrent ${infoHash} is not one file`)
      const path = join(folder, file.path)
      if ((await stat(path)).size > MAX_CATALOG_BYTES) throw new MirrorError('ET_MIRROR_REFUSED', `the catalog ${infoHash} is larger than ${MAX_CATALOG_BYTES} bytes`)
      try {
        return parseCatalogDocument(await readFile(path))
      } catch (error) {
        throw new MirrorError('ET_MIRROR_REFUSED', `the catalog ${infoHash} is refused: ${error instanceof Error ? error.message : String(error)}`)
      }
    } catch (error) {
      if (error instanceof MirrorError) throw error
      throw new MirrorError('ET_MIRROR_UNREACHABLE', `the catalog torrent ${infoHash} could not be fetched: ${error instanceof Error ? error.message : String(error)}`, { cause: error })
    } finally {
      clearTimeout(timer)
      signal.removeEventListener('abort', stop)
      await download.close()
      // Only the latest catalog is kept: the document is in memory, a new one comes under a new infohash.
      await rm(folder, { recursive: true, force: true })
      await rm(join(this.options.folder, `${infoHash}.resume`), { force: true })
    }
  }
}

function itemsOf (document: CatalogDocument): UpstreamItem[] {
  return document.items.map(({ infoHash, name, size }) => ({ infoHash, name, bytes: size }))
}

/** `promise`, or a transient MirrorError after `ms` or once `signal` aborts (a DHT lookup cut short may never settle). */
async function bounded<T> (promise: Promise<T>, ms: number, signal: AbortSignal, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  let onAbort: (() => void) | undefined
  const limit = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => { reject(new MirrorError('ET_MIRROR_UNREACHABLE', `${what} took longer than ${ms} ms`)) }, ms)
    onAbort = () => { reject(new MirrorError('ET_MIRROR_UNREACHABLE', `${what} was stopped`)) }
    signal.addEventListener('abort', onAbort)
  })
  try {
    return await Promise.race([promise, limit])
  } finally {
    clearTimeout(timer)
    signal.removeEventListener('abort', onAbort!)
  }
}
