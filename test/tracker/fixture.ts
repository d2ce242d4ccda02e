import { randomBytes } from 'node:crypto'
import type { ExecutionContext } from 'ava'
import { Catalog, type PublishedTorrent } from '../../appliance/catalog/catalog.js'
import { buildMetainfo } from '../../appliance/metainfo/metainfo.js'
import { Tracker, trackerOptionsFrom, type TrackerOptions } from '../../appliance/tracker/tracker.js'
import { HttpServer, httpServerOptionsFrom } from '../../appliance/web/http-server.js'
import { DEFAULTS } from '../helpers/defaults.js'

/** A published torrent whose files need not exist: the tracker only reads its infohash. */
export function fakePublished (name: string, announce: readonly string[] = []): PublishedTorrent {
  const metainfo = buildMetainfo({
    name,
    pieceLength: 16384,
    pieces: randomBytes(20),
    files: [{ path: [], length: 1000 }],
    announceList: announce.length === 0 ? [] : [announce]
  })
  return { metainfo, files: [{ absolutePath: `/nonexistent/${name}`, size: 1000, mtimeMs: 0, ino: 0 }] }
}

export const EVERSEED_PORT = 6881

export interface TrackerFixture {
  readonly tracker: Tracker
  readonly catalog: Catalog
  readonly published: PublishedTorrent
  /** Binary infohash of `published`. */
  readonly infoHash: Buffer
  readonly httpPort: number
  readonly udpPort: number
}

/**
 * A tracker with one published torrent, its UDP side and an HttpServer (with `/announce`, `/scrape`
 * and the WebSocket upgrade) both on `host`; everything is closed when the test ends.
 */
export async function startTracker (t: ExecutionContext, host: string, options: Partial<TrackerOptions> = {}): Promise<TrackerFixture> {
  const catalog = new Catalog()
  const published = fakePublished('published.bin')
  catalog.add(published)
  const tracker = new Tracker({ ...trackerOptionsFrom(DEFAULTS), catalog, everseedPort: EVERSEED_PORT, udpPort: 0, host, ...options })
  await tracker.start()
  t.teardown(async () => { await tracker.close() })
  const web = await mountTracker(t, tracker, host)
  return { tracker, catalog, published, infoHash: Buffer.from(published.metainfo.infoHash, 'hex'), httpPort: web.port, udpPort: tracker.udpPort! }
}

/** An HttpServer on `host` answering the tracker's HTTP routes, closed when the test ends. */
export async function mountTracker (t: ExecutionContext, tracker: Tracker, host: string): Promise<HttpServer> {
  const web = new HttpServer({ ...httpServerOptionsFrom(DEFAULTS), port: 0, host })
  web.route(['GET'], '/announce', tracker.handleAnnounce)
  web.route(['GET'], '/scrape', tracker.handleScrape)
  web.upgrade('/announce', tracker.handleUpgrade)
  await web.start()
  t.teardown(async () => { await web.close() })
  return web
}
