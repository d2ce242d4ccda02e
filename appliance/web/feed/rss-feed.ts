import { Feed } from 'feed'
import type { FeedDocument, FeedItem } from './feed-document.js'
import { cdataSections } from './xml-text.js'

/** ezRSS's namespace for a torrent's details, which torrent feed readers (and Jackett) read. */
const TORRENT_NAMESPACE = 'http://xmlns.ezrss.it/0.1/'

/**
 * The feed as RSS 2.0, built by `feed`. Each item's `<enclosure>` is the `.torrent`, typed
 * `application/x-bittorrent`: qBittorrent takes a torrent's URL from an enclosure of exactly that type
 * (src/base/rss/rss_parser.cpp), and from `<link>` only when there is none, and `<link>` is the status
 * page. `lastBuildDate` changes whenever the items do: qBittorrent skips a feed whose `lastBuildDate`
 * it has seen.
 */
export function renderRss (document: FeedDocument): string {
  const feed = new Feed({
    title: document.title,
    description: document.description,
    id: document.homeUrl,
    link: document.homeUrl,
    updated: document.updatedAt,
    generator: 'evertorrent',
    feedLinks: { rss: document.rssUrl, json: document.jsonUrl }
  })
  for (const item of document.items) feed.addItem(rssItem(item))
  return feed.rss2()
}

function rssItem (item: FeedItem): Parameters<Feed['addItem']>[0] {
  return {
    // Given below as CDATA sections instead: `feed` writes a title as one, broken by a second `]]>`.
    title: '',
    id: item.id,
    link: item.pageUrl,
    date: item.publishedAt,
    description: item.summary,
    enclosure: { url: item.torrentUrl, type: 'application/x-bittorrent', length: item.torrentBytes },
    extensions: [
      { name: 'title', objects: { _cdata: cdataSections(item.title) } },
      {
        name: 'torrent',
        objects: {
          _attributes: { xmlns: TORRENT_NAMESPACE },
          contentLength: { _text: String(item.contentBytes) },
          infoHash: { _text: item.infoHash },
          magnetURI: { _cdata: cdataSections(item.magnet) }
        }
      }
    ]
  }
}
