import { createHash } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { hostname } from 'node:os'
import type { Catalog, PublishedTorrent } from '../../catalog/catalog.js'
import type { Settings } from '../../config/settings.js'
import { ownHostOf } from '../../net/own-host.js'
import type { HttpServer } from '../http-server.js'
import { send } from '../status-page-assets.js'
import { urlHost } from '../torrent-urls.js'
import { isNotModified } from './conditional-get.js'
import { feedDocument, feedEntries, JSON_FEED_PATH, publishedAtOf, RSS_PATH, type FeedDocument, type FeedEntry } from './feed-document.js'

/**
 * Renderings kept, each a format served from one origin (the box's name, its address, its public
 * host…): a subscriber's every poll is answered from one of them. A Host that is an IP literal counts
 * as the box's own, so strangers can make more origins; the least recently used one goes.
 */
export const MAX_FEED_RENDERINGS = 8

/** The options the settings table gives (see `publishedFeedOptionsFrom`). */
export interface SettingsOptions {
  /** `web.feed_max_items`. */
  readonly maxItems: number
}

export function publishedFeedOptionsFrom (settings: Settings): SettingsOptions {
  return { maxItems: settings['web.feed_max_items'] }
}

export interface PublishedFeedOptions extends SettingsOptions {
  readonly catalog: Catalog
  /** Names a request's Host may give for its URLs to be used in the feed, besides IP literals (see `ownHostOf`). */
  readonly hostNames: () => ReadonlySet<string>
  /** The origin (`http://host:port`) the feed's URLs name when the request's Host is not one of the box's: the LAN one. */
  readonly origin: () => string
  /** Default: the machine's hostname. */
  readonly boxName?: string
  readonly now?: () => number
}

type Format = 'rss' | 'json'

interface Rendering {
  readonly body: Buffer
  readonly etag: string
  /** When its entries last changed (ms): Last-Modified. */
  readonly updatedAt: number
}

const CONTENT_TYPES: Readonly<Record<Format, string>> = {
  rss: 'application/rss+xml; charset=utf-8',
  json: 'application/feed+json'
}

/**
 * What the box publishes, as feeds: `GET`/`HEAD` `/feed.xml` (RSS 2.0) and `/feed.json` (JSON Feed
 * 1.1), the newest `maxItems` torrents. The entries are worked out again only after the catalog
 * changed, at the next request, and each rendering is kept until they change; answers carry an ETag
 * and Last-Modified, and a matching conditional request gets 304.
 */
export class PublishedFeed {
  private readonly options: PublishedFeedOptions
  private readonly now: () => number
  private readonly boxName: string
  /** When each torrent was first listed, for one without a creation date. */
  private readonly listedAt = new WeakMap<PublishedTorrent, number>()
  private readonly renderings = new Map<string, Rendering>()
  private entries: readonly FeedEntry[] = []
  private entriesKey = ''
  private updatedAt = 0
  private stale = true

  constructor (options: PublishedFeedOptions) {
    this.options = options
    this.now = options.now ?? Date.now
    this.boxName = options.boxName ?? hostname()
    for (const torrent of options.catalog.all()) this.listedAt.set(torrent, this.now())
    options.catalog.on('added', this.onAdded)
    options.catalog.on('removed', this.onChange)
    options.catalog.on('retracked', this.onChange)
  }

  /** Renderings kept now, for tests. */
  get renderingCount (): number {
    return this.renderings.size
  }

  mount (http: HttpServer): void {
    http.route(['GET', 'HEAD'], RSS_PATH, async (req, res) => { await this.serve(req, res, 'rss') })
    http.route(['GET', 'HEAD'], JSON_FEED_PATH, async (req, res) => { await this.serve(req, res, 'json') })
  }

  close (): void {
    this.options.catalog.off('added', this.onAdded)
    this.options.catalog.off('removed', this.onChange)
    this.options.catalog.off('retracked', this.onChange)
  }

  private readonly onAdded = (torrent: PublishedTorrent): void => {
    this.listedAt.set(torrent, this.now())
    this.stale = true
  }

  private readonly onChange = (): void => { this.stale = true }

  private async serve (req: IncomingMessage, res: ServerResponse, format: Format): Promise<void> {
    const { body, etag, updatedAt } = await this.rendering(format, this.originFor(req))
    const headers = { ETag: etag, 'Last-Modified': new Date(updatedAt).toUTCString(), 'Cache-Control': 'no-cache' }
    if (isNotModified(req.headers, etag, updatedAt)) {
      res.writeHead(304, headers)
      res.end()
      return
    }
    send(req, res, 200, body, { ...headers, 'Content-Type': CONTENT_TYPES[format] })
  }

  /** The request's own origin when its Host names the box (so a subscriber gets URLs it can reach), else the configured one. */
  private originFor (req: IncomingMessage): string {
    const own = ownHostOf(req.headers.host, this.options.hostNames())
    if (own === undefined) return this.options.origin()
    return `http://${urlHost(own.host)}${own.port === undefined ? '' : `:${own.port}`}`
  }

  private async rendering (format: Format, origin: string): Promise<Rendering> {
    this.refresh()
    const key = `${format} ${origin}`
    const kept = this.renderings.get(key)
    if (kept !== undefined) {
      this.renderings.delete(key)
      this.renderings.set(key, kept)
      return kept
    }
    const updatedAt = this.updatedAt
    const body = Buffer.from(await render(format, feedDocument(this.entries, { origin, boxName: this.boxName, updatedAt: new Date(updatedAt) })), 'utf8')
    const rendering = { body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`, updatedAt }
    // Another request may have refreshed the entries while the renderer loaded: keep only a current one.
    if (updatedAt !== this.updatedAt) return rendering
    this.renderings.set(key, rendering)
    if (this.renderings.size > MAX_FEED_RENDERINGS) this.renderings.delete(this.renderings.keys().next().value!)
    return rendering
  }

  /**
   * After a catalog change: the entries again, and when they differ, a new update time (in whole
   * seconds, one at least after the last, so that every change shows in `lastBuildDate`).
   */
  private refresh (): void {
    if (!this.stale) return
    this.stale = false
    const entries = feedEntries(this.options.catalog.all(), this.options.maxItems, (torrent) => publishedAtOf(torrent, this.listedAt.get(torrent) ?? this.now()))
    const key = JSON.stringify(entries)
    if (key === this.entriesKey) return
    this.entries = entries
    this.entriesKey = key
    this.updatedAt = Math.max(Math.floor(this.now() / 1000) * 1000, this.updatedAt + 1000)
    this.renderings.clear()
  }
}

/** The renderers are loaded by the first request for a feed, not at start-up (`feed` brings xml-js). */
async function render (format: Format, document: FeedDocument): Promise<string> {
  if (format === 'rss') return (await import('./rss-feed.js')).renderRss(document)
  return (await import('./json-feed.js')).renderJsonFeed(document)
}
