import { basename } from 'node:path'
import type { PublishedTorrent } from '../catalog/catalog.js'
import type { MirrorStatus } from '../catalog/mirror-status.js'
import type { PatternName } from '../status/led-pattern.js'
import { magnetUri } from '../metainfo/magnet.js'
import type { Metainfo } from '../metainfo/metainfo.js'
import type { ItemView, LibraryView, ReachabilityView, ServicePhase, StatusSnapshot, SwarmCounts } from '../status/status-model.js'

/**
 * The status page's data, as `/api/status` serves it and `docs/api.md` documents it (the JSON Schema
 * there is checked against a real response by a test). Built from the status model's snapshot plus
 * what only the catalog knows (file count, magnet); it never holds an absolute path of the box:
 * libraries are named by their folder's name, items by their path inside their library.
 */
export interface StatusDocument {
  /** Server clock (ms since the epoch) when the document was built. */
  readonly generatedAt: number
  readonly box: BoxDoc
  readonly totals: StatusSnapshot['totals']
  /** The last drives were ejected on request and none is mounted: safe to pull them. */
  readonly safeToRemove: boolean
  readonly libraries: readonly LibraryDoc[]
  readonly items: readonly ItemDoc[]
  readonly leds: readonly LedDoc[]
  readonly actions: { readonly enabled: boolean, readonly available: readonly ActionName[] }
  /** How the box is reached from beyond the LAN: public host, router mappings, DHT, encrypted peers. */
  readonly reachability: ReachabilityView
  /** The other boxes this one follows (`[[mirror]]`), in config order. */
  readonly mirrors: readonly MirrorDoc[]
}

/** One followed box: what is held of it, and what its follower is doing. */
/** A followed box as `/api/status` shows it (docs/api.md). */
export type MirrorDoc = MirrorStatus

export interface BoxDoc {
  readonly name: string
  readonly version: string
  readonly phase: ServicePhase
  /** When the service started, ms since the epoch. */
  readonly startedAt: number
  /** When the machine booted, ms since the epoch. */
  readonly bootedAt: number
  /** LAN addresses of the box (no loopback, no link-local IPv6). */
  readonly addresses: readonly string[]
  /** The tracker URLs written into every published torrent. */
  readonly trackers: readonly string[]
  /** The box's ed25519 public key (hex), by which other boxes follow it (BEP 46); its private key is never shown. */
  readonly publicKey?: string
}

export interface DiskSpaceDoc {
  readonly totalBytes: number
  readonly freeBytes: number
  readonly usedBytes: number
}

export interface LibraryDoc {
  readonly id: string
  readonly name: string
  readonly kind: LibraryView['kind']
  readonly state: LibraryView['state']
  /** The filesystem's space, while the library is present. */
  readonly space?: DiskSpaceDoc
}

export interface ItemDoc {
  /** `<library id>/<path>`: stable while the item stays where it is. */
  readonly id: string
  readonly name: string
  readonly library: string
  /** Path relative to the library. */
  readonly path: string
  readonly state: ItemView['state']
  readonly infoHash?: string
  readonly totalBytes?: number
  readonly fileCount?: number
  readonly hashing?: { readonly bytesHashed: number, readonly fraction: number, readonly etaSeconds?: number }
  readonly error?: { readonly code: string, readonly message: string }
  readonly peers: number
  readonly uploadRate: number
  readonly uploadedBytes: number
  readonly swarm: SwarmCounts
  /** Present while the item's torrent is published. */
  readonly links?: ItemLinks
}

export interface ItemLinks {
  readonly magnet: string
  /** Same-origin paths of this box's web server. */
  readonly torrent: string
  readonly qr: string
  /** The torrent's BEP 19 url-list entry, as clients see it. */
  readonly webSeed: string
  /** For a single-file torrent: the file itself over HTTP, same-origin. */
  readonly download?: string
}

/** One LED and the pattern it shows (see `hardware/led-pattern.ts`): lit `onMs`, dark `offMs`, repeating. */
export interface LedDoc {
  readonly name: string
  readonly pattern: PatternName
  readonly onMs: number
  readonly offMs: number
  /** `#rrggbb` while lit. */
  readonly colour: string
  /** What the person looking at the box should understand. */
  readonly meaning: string
}

export type ActionName = 'rescan' | 'eject' | 'eject-drive' | 'pause' | 'resume'

/** Everything `buildStatusDocument` reads besides the snapshot; each part injected so the builder stays pure. */
export interface DocumentContext {
  readonly now: number
  readonly box: Omit<BoxDoc, 'phase' | 'startedAt'>
  readonly torrent: (infoHash: string) => PublishedTorrent | undefined
  readonly space: (libraryPath: string) => DiskSpaceDoc | undefined
  readonly hashing: (item: ItemView) => { etaSeconds?: number }
  readonly leds: readonly LedDoc[]
  readonly actions: StatusDocument['actions']
  readonly mirrors: readonly MirrorDoc[]
}

export function buildStatusDocument (snapshot: StatusSnapshot, context: DocumentContext): StatusDocument {
  const names = new LibraryNames(snapshot)
  return {
    generatedAt: context.now,
    box: { ...context.box, phase: snapshot.phase, startedAt: snapshot.startedAt },
    totals: snapshot.totals,
    safeToRemove: snapshot.safeToRemove,
    libraries: snapshot.libraries.map((library) => {
      const space = library.state === 'present' ? context.space(library.path) : undefined
      return {
        id: names.idOf(library.path),
        name: names.idOf(library.path),
        kind: library.kind,
        state: library.state,
        ...(space !== undefined && { space })
      }
    }),
    items: snapshot.items.map((item) => itemDoc(item, names, context)),
    leds: context.leds,
    actions: context.actions,
    reachability: snapshot.reachability,
    mirrors: context.mirrors
  }
}

/** The status-model path of the item that has page id `id` in a document built from `snapshot`. */
export function itemPathOf (snapshot: StatusSnapshot, id: string): string | undefined {
  const names = new LibraryNames(snapshot)
  return snapshot.items.find((item) => itemId(item, names) === id)?.path
}

/** The status-model path of the mounted drive that has library id `id` in a document built from `snapshot`. */
export function drivePathOf (snapshot: StatusSnapshot, id: string): string | undefined {
  const names = new LibraryNames(snapshot)
  return snapshot.libraries.find((library) => library.kind === 'drive' && library.state === 'present' && names.idOf(library.path) === id)?.path
}

function itemId (item: ItemView, names: LibraryNames): string {
  return `${names.idOf(item.library)}/${relativeTo(item.library, item.path)}`
}

function itemDoc (item: ItemView, names: LibraryNames, context: DocumentContext): ItemDoc {
  const library = names.idOf(item.library)
  const path = relativeTo(item.library, item.path)
  const torrent = item.infoHash === undefined ? undefined : context.torrent(item.infoHash)
  const hashing = item.state === 'hashing' && item.totalBytes !== undefined ? hashingOf(item, context) : undefined
  return {
    id: itemId(item, names),
    name: item.name,
    library,
    path,
    state: item.state,
    ...(item.infoHash !== undefined && { infoHash: item.infoHash }),
    ...(item.totalBytes !== undefined && { totalBytes: item.totalBytes }),
    ...(torrent !== undefined && { fileCount: torrent.metainfo.files.length }),
    ...(hashing !== undefined && { hashing }),
    ...(item.error !== undefined && { error: { code: item.error.code, message: names.redact(item.error.message) } }),
    peers: item.peers,
    uploadRate: item.uploadRate,
    uploadedBytes: item.uploadedBytes,
    swarm: item.swarm,
    ...(torrent !== undefined && { links: linksOf(torrent) })
  }
}

function hashingOf (item: ItemView, context: DocumentContext): NonNullable<ItemDoc['hashing']> {
  const bytesHashed = item.bytesHashed ?? 0
  const total = item.totalBytes ?? 0
  const { etaSeconds } = context.hashing(item)
  return {
    bytesHashed,
    fraction: total === 0 ? 0 : Math.min(1, bytesHashed / total),
    ...(etaSeconds !== undefined && { etaSeconds })
  }
}

const linkCache = new WeakMap<Metainfo, ItemLinks>()

/** A published torrent's links, made once per metainfo: a new public host gives the torrent a new one (`Catalog.retrack`). */
function linksOf (torrent: PublishedTorrent): ItemLinks {
  const { metainfo } = torrent
  const cached = linkCache.get(metainfo)
  if (cached !== undefined) return cached
  const webSeed = metainfo.urlList[0]
  const links: ItemLinks = {
    magnet: magnetUri(metainfo),
    torrent: `/torrents/${metainfo.infoHash}.torrent`,
    qr: `/qr/${metainfo.infoHash}.svg`,
    webSeed: webSeed ?? '',
    ...(metainfo.files.length === 1 && metainfo.files.pathOf(0).length === 1 && { download: `/webseed/${metainfo.infoHash}/${encodeURIComponent(metainfo.name)}` })
  }
  linkCache.set(metainfo, links)
  return links
}

/**
 * Names for the libraries in view: a library's folder name, with `-2`, `-3` … for folders of the same
 * name. Also takes the libraries' absolute paths out of messages, for the page never shows where on
 * the box a library lives.
 */
class LibraryNames {
  private readonly ids = new Map<string, string>()
  /** Longest path first, so a library inside another is replaced as itself. */
  private readonly byLength: string[]

  constructor (snapshot: StatusSnapshot) {
    const paths = [...new Set([...snapshot.libraries.map((library) => library.path), ...snapshot.items.map((item) => item.library)])]
    const taken = new Set<string>()
    for (const path of paths) {
      const base = basename(path) || 'library'
      let id = base
      for (let n = 2; taken.has(id); n++) id = `${base}-${n}`
      taken.add(id)
      this.ids.set(path, id)
    }
    this.byLength = [...paths].sort((a, b) => b.length - a.length)
  }

  idOf (path: string): string {
    return this.ids.get(path) ?? (basename(path) || 'library')
  }

  redact (message: string): string {
    let text = message
    for (const path of this.byLength) {
      const id = this.idOf(path)
      text = text.replace(new RegExp(`${escapeRegExp(path)}(?=$|[/\\s'"),:;])`, 'g'), () => id)
    }
    // Whatever absolute path is left (a state file, a mount point) is not the page's business.
    return text.replace(/(^|[\s'"(=])\/[^\s'"()]*/g, '$1…')
  }
}

function escapeRegExp (text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

function relativeTo (library: string, path: string): string {
  const prefix = library.endsWith('/') ? library : `${library}/`
  return path.startsWith(prefix) ? path.slice(prefix.length) : basename(path)
}
