import type { FeedDocument, FeedItem } from './feed-document.js'

/**
 * The feed as JSON Feed 1.1 (https://www.jsonfeed.org/version/1.1/), built here from the same document
 * as the RSS: `feed` 6 writes JSON Feed 1.0 only (its `version` fixed to 1, `author` where 1.1 has
 * `authors`, no `attachments`), and the object is a dozen fields. The torrent's details go in an
 * extension (`_torrent`: keys starting with `_` are the spec's way to extend an item).
 */
export function renderJsonFeed (document: FeedDocument): string {
  return JSON.stringify({
    version: 'https://jsonfeed.org/version/1.1',
    title: document.title,
    home_page_url: document.homeUrl,
    feed_url: document.jsonUrl,
    description: document.description,
    items: document.items.map(jsonItem)
  }, null, 2)
}

function jsonItem (item: FeedItem): Record<string, unknown> {
  return {
    id: item.id,
    url: item.pageUrl,
    title: item.title,
    content_text: item.summary,
    date_published: item.publishedAt.toISOString(),
    attachments: [{ url: item.torrentUrl, mime_type: 'application/x-bittorrent', size_in_bytes: item.torrentBytes }],
    _torrent: { info_hash: item.infoHash, magnet_uri: item.magnet, content_length: item.contentBytes }
  }
}
