import type { ExecutionContext } from 'ava'
import type { Catalog, PublishedTorrent } from '../../appliance/catalog/catalog.js'
import { createTorrent } from '../../appliance/metainfo/create-torrent.js'
import { HttpServer, httpServerOptionsFrom } from '../../appliance/web/http-server.js'
import { torrentDownloadHandler } from '../../appliance/web/torrent-download.js'
import { WebSeed, webSeedUrl, type WebSeedOptions } from '../../appliance/web/web-seed.js'
import { DEFAULTS } from '../helpers/defaults.js'

export const HOST = '127.0.0.1'

/**
 * Hashes `path` into a published torrent whose url-list points at the web seed at `baseUrl`. The URL
 * holds the infohash, so it is set after hashing; it is outside the info dictionary.
 */
export async function publish (path: string, baseUrl: string): Promise<PublishedTorrent> {
  const { metainfo, content } = await createTorrent(path, { threads: 1 })
  return {
    metainfo: { ...metainfo, urlList: [webSeedUrl(baseUrl, metainfo.infoHash)] },
    files: content.files
  }
}

export interface WebSeedFixture {
  readonly web: HttpServer
  readonly seed: WebSeed
  readonly baseUrl: string
}

/** An HttpServer on 127.0.0.1 serving `/webseed/*` and `/torrents/*` from `catalog`, closed when the test ends. */
export async function startWebSeed (t: ExecutionContext, catalog: Catalog, options: Partial<WebSeedOptions> = {}): Promise<WebSeedFixture> {
  const seed = new WebSeed({ catalog, ...options })
  const web = new HttpServer({ ...httpServerOptionsFrom(DEFAULTS), port: 0, host: HOST })
  web.route(['GET', 'HEAD'], '/webseed/*', seed.handle)
  web.route(['GET', 'HEAD'], '/torrents/*', torrentDownloadHandler(catalog))
  await web.start()
  t.teardown(async () => { await web.close() })
  return { web, seed, baseUrl: `http://${HOST}:${web.port}` }
}
