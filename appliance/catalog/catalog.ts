import { EventEmitter } from 'node:events'
import { truncatedInfoHash, type InfoHash, type Metainfo } from '../metainfo/metainfo.js'

/** Where one file of a published torrent lives on disk, and what it looked like when hashed. */
export interface PublishedFile {
  readonly absolutePath: string
  readonly size: number
  readonly mtimeMs: number
  /**
   * Its inode, where the filesystem keeps inode numbers stable (not FAT, exFAT or FUSE): a file
   * replaced by another (or by a link to one) of the same size and mtime is not the one hashed.
   */
  readonly ino?: number
}

/**
 * The files of a published torrent: the library's packed listing (`FileListing`), which makes one
 * `PublishedFile` when asked rather than keeping one per file; an array will do as well.
 */
export interface PublishedFiles extends Iterable<PublishedFile> {
  readonly length: number
  at (index: number): PublishedFile | undefined
}

/** A torrent this box publishes: `files.at(i)` holds the bytes of `metainfo.files.at(i)`. */
export interface PublishedTorrent {
  readonly metainfo: Metainfo
  readonly files: PublishedFiles
  /**
   * Set for the box's own catalog torrent (identity/box-catalog.ts): tracked, seeded, served and
   * announced like the others, but no library item, so lists of what the box publishes (its catalog,
   * its feed) leave it out.
   */
  readonly internal?: true
  /**
   * Set for a torrent this box mirrors from another: that box's trackers and web seeds, which it
   * offers after its own (`withForeignTrackers`), also when `retrack` gives it new ones of its own.
   */
  readonly foreignTrackers?: TrackerFields
}

export type TrackerFields = Pick<Metainfo, 'announceList' | 'urlList'>

/** This box's tiers and web seeds first, then the foreign ones it does not already name. */
export function withForeignTrackers (ours: TrackerFields, foreign: TrackerFields | undefined): TrackerFields {
  if (foreign === undefined) return ours
  const own = new Set(ours.announceList.map((tier) => tier.join('\n')))
  return {
    announceList: [...ours.announceList, ...foreign.announceList.filter((tier) => !own.has(tier.join('\n'))).map((tier) => [...tier])],
    urlList: [...new Set([...ours.urlList, ...foreign.urlList])]
  }
}

export interface CatalogEvents {
  added: [torrent: PublishedTorrent]
  removed: [torrent: PublishedTorrent]
  /** The outer fields of every torrent were rewritten (see `retrack`). */
  retracked: []
}

/**
 * The torrents published right now, by infohash. The tracker (published-only mode), the seeder and
 * the web seed all read it; the library adds and removes.
 */
export class Catalog extends EventEmitter<CatalogEvents> {
  private readonly torrents = new Map<InfoHash, PublishedTorrent>()
  /** A hybrid torrent's v2 infohash truncated to 20 bytes (BEP 52) → its infohash (the v1 one). */
  private readonly byTruncatedV2 = new Map<InfoHash, InfoHash>()

  get size (): number {
    return this.torrents.size
  }

  get (infoHash: string): PublishedTorrent | undefined {
    return this.torrents.get(infoHash as InfoHash)
  }

  has (infoHash: string): boolean {
    return this.torrents.has(infoHash as InfoHash)
  }

  /**
   * The infohash of the published torrent that `infoHash` names, as its infohash or, for a hybrid, as
   * its truncated v2 infohash (what v2 peers announce and handshake with); undefined for another.
   */
  canonicalHash (infoHash: string): InfoHash | undefined {
    return this.torrents.has(infoHash as InfoHash) ? infoHash as InfoHash : this.byTruncatedV2.get(infoHash as InfoHash)
  }

  all (): IterableIterator<PublishedTorrent> {
    return this.torrents.values()
  }

  add (torrent: PublishedTorrent): void {
    if (torrent.files.length !== torrent.metainfo.files.length) throw new Error('a published torrent needs one disk file per torrent file')
    const previous = this.torrents.get(torrent.metainfo.infoHash)
    if (previous === torrent) return
    if (previous !== undefined) this.remove(previous.metainfo.infoHash)
    this.torrents.set(torrent.metainfo.infoHash, torrent)
    const truncated = truncatedV2Of(torrent.metainfo)
    if (truncated !== undefined) this.byTruncatedV2.set(truncated, torrent.metainfo.infoHash)
    this.emit('added', torrent)
  }

  /**
   * Rewrites the fields outside the info dictionary (announce list, web seeds) of every torrent, in
   * place: the same torrents stay published under the same infohashes, and what is handed out from now
   * on (.torrent files, magnet links) names the new URLs.
   */
  retrack (fieldsFor: (infoHash: InfoHash) => TrackerFields): void {
    for (const torrent of this.torrents.values()) {
      const { announceList, urlList } = withForeignTrackers(fieldsFor(torrent.metainfo.infoHash), torrent.foreignTrackers)
      ;(torrent as { metainfo: Metainfo }).metainfo = { ...torrent.metainfo, announceList, urlList }
    }
    this.emit('retracked')
  }

  remove (infoHash: string): void {
    const torrent = this.torrents.get(infoHash as InfoHash)
    if (torrent === undefined) return
    this.torrents.delete(infoHash as InfoHash)
    const truncated = truncatedV2Of(torrent.metainfo)
    if (truncated !== undefined) this.byTruncatedV2.delete(truncated)
    this.emit('removed', torrent)
  }
}

/** A hybrid's truncated v2 infohash; undefined for v1 and for v2-only torrents, whose infohash it already is. */
export function truncatedV2Of (metainfo: Metainfo): InfoHash | undefined {
  return metainfo.format === 'hybrid' && metainfo.infoHashV2 !== undefined ? truncatedInfoHash(metainfo.infoHashV2) : undefined
}
