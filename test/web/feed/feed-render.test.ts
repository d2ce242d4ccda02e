import test from 'ava'
import { encodeTorrent } from '../../../appliance/metainfo/metainfo.js'
import { feedDocument, feedEntries, publishedAtOf } from '../../../appliance/web/feed/feed-document.js'
import { renderJsonFeed } from '../../../appliance/web/feed/json-feed.js'
import { renderRss } from '../../../appliance/web/feed/rss-feed.js'
import { cdataSections, xmlText } from '../../../appliance/web/feed/xml-text.js'
import { parseRss, torrentNamed } from './fixture.js'

const ORIGIN = 'http://192.168.1.20:8080'
const UPDATED = new Date(Date.UTC(2026, 11, 6, 1, 2, 3))

function documentOf (torrents: ReturnType<typeof torrentNamed>[], maxItems = 50): ReturnType<typeof feedDocument> {
  const entries = feedEntries(torrents, maxItems, (torrent) => publishedAtOf(torrent, 0))
  return feedDocument(entries, { origin: ORIGIN, boxName: 'pi', updatedAt: UPDATED })
}

test('xmlText replaces what XML 1.0 cannot hold (C0 controls, lone surrogates, U+FFFE/U+FFFF) and keeps the rest', (t) => {
  t.is(xmlText('a\u0000b\u0001c\u001fd\ud800e\udfffg\uffffh\ufffei'), 'a\ufffdb\ufffdc\ufffdd\ufffde\ufffdg\ufffdh\ufffdi')
  const kept = 'tab\tlf\ncr\r é 日本 😀 \u007f\u0085 <&>"\' ]]>'
  t.is(xmlText(kept), kept)
})

test('cdataSections cuts every ]]> so no section holds one, and the sections join back into the text', (t) => {
  for (const text of ['', 'plain', ']]>', 'a]]>b]]>c', ']]]>>', ']]>]]>]]>', 'x]]']) {
    const sections = cdataSections(text)
    t.is(sections.join(''), text, text)
    for (const section of sections) t.false(section.includes(']]>'), `${text}: ${section}`)
  }
})

test('an entry: urn:btih id, the name, the .torrent path and its exact length, the magnet link, size and files', (t) => {
  const torrent = torrentNamed('holiday.mkv', 100_000, 1_700_000_000)
  const [entry] = feedEntries([torrent], 50, (published) => publishedAtOf(published, 0))
  const { infoHash } = torrent.metainfo
  t.like(entry, { id: `urn:btih:${infoHash}`, infoHash, title: 'holiday.mkv', torrentPath: `/torrents/${infoHash}.torrent`, contentBytes: 100_000, fileCount: 1 })
  t.is(entry!.torrentBytes, encodeTorrent(torrent.metainfo).length)
  t.is(entry!.publishedAt.getTime(), 1_700_000_000_000)
  t.true(entry!.magnet.startsWith(`magnet:?xt=urn:btih:${infoHash}&dn=holiday.mkv&xl=100000&tr=`))
})

test('the publish time is the creation date; a torrent without one counts from when it was listed', (t) => {
  t.is(publishedAtOf(torrentNamed('a', 1, 1_000), 5_000_000), 1_000_000)
  t.is(publishedAtOf(torrentNamed('b', 1), 5_000_000), 5_000_000)
})

test('only the newest N entries, newest first, ties in infohash order', (t) => {
  const torrents = Array.from({ length: 12 }, (_, index) => torrentNamed(`item ${index}`, 1000 + index, 1_000 + (index % 6)))
  const entries = feedEntries(torrents, 5, (torrent) => publishedAtOf(torrent, 0))
  t.is(entries.length, 5)
  const times = entries.map((entry) => entry.publishedAt.getTime())
  t.deepEqual(times, [...times].sort((a, b) => b - a))
  t.is(times[0], 1_005_000)
  t.true(entries[0]!.infoHash < entries[1]!.infoHash, 'the two of the same time are in infohash order')
  t.deepEqual(feedEntries(torrents, 50, (torrent) => publishedAtOf(torrent, 0)).length, 12)
})

test('the box\'s own catalog torrent (internal) is not an entry', (t) => {
  const catalogTorrent = { ...torrentNamed('catalog.json', 300, 2_000), internal: true as const }
  const entries = feedEntries([torrentNamed('film', 1000, 1_000), catalogTorrent], 50, (torrent) => publishedAtOf(torrent, 0))
  t.deepEqual(entries.map((entry) => entry.title), ['film'])
})

test('RSS: well-formed for hostile names (]]>, control characters, lone surrogates, markup), read back by a real XML parser', (t) => {
  const names = ['a]]>b]]>c', 'ctl\u0001\u0008\u000b\u000c\u001f\u007f', 'lone \ud800 and \udc00 surrogates', '<script>alert(1)</script> & &amp; "q"', '\uffff\ufffe', ']]>']
  const torrents = names.map((name, index) => torrentNamed(name, 10 + index, 2_000 - index))
  const xml = renderRss(documentOf(torrents))
  const parsed = parseRss(xml)
  t.deepEqual(parsed.items.map((item) => item.title), names.map(xmlText))
  t.is(parsed.items[0]!.title, 'a]]>b]]>c', 'a name with ]]> reads back exactly')
  t.is(parsed.items[3]!.title, '<script>alert(1)</script> & &amp; "q"')
})

test('RSS: each item has the guid, pubDate, the .torrent as an application/x-bittorrent enclosure with its length, and the torrent namespace', (t) => {
  const torrent = torrentNamed('film.mkv', 123_456, 1_700_000_000)
  const { infoHash } = torrent.metainfo
  const parsed = parseRss(renderRss(documentOf([torrent])))
  t.is(parsed.lastBuildDate, UPDATED.toUTCString())
  const [item] = parsed.items
  t.like(item, {
    title: 'film.mkv',
    guid: `urn:btih:${infoHash}`,
    pubDate: new Date(1_700_000_000_000).toUTCString(),
    link: `${ORIGIN}/`,
    enclosure: { url: `${ORIGIN}/torrents/${infoHash}.torrent`, type: 'application/x-bittorrent', length: String(encodeTorrent(torrent.metainfo).length) },
    torrent: { infoHash, contentLength: '123456' }
  })
  t.true(item!.torrent.magnetURI.startsWith(`magnet:?xt=urn:btih:${infoHash}&`))
})

test('JSON Feed 1.1: version, title and items, each with id, content, date, the .torrent attachment and the torrent extension', (t) => {
  const torrent = torrentNamed('a]]>\u0001\ud800', 4096, 1_700_000_000)
  const { infoHash } = torrent.metainfo
  const feed = JSON.parse(renderJsonFeed(documentOf([torrent, torrentNamed('b', 1, 1)]))) as Record<string, unknown> & { items: Array<Record<string, unknown>> }
  t.is(feed.version, 'https://jsonfeed.org/version/1.1')
  t.is(typeof feed.title, 'string')
  t.is(feed.feed_url, `${ORIGIN}/feed.json`)
  t.is(feed.home_page_url, `${ORIGIN}/`)
  t.is(feed.items.length, 2)
  const [item] = feed.items
  t.deepEqual(item, {
    id: `urn:btih:${infoHash}`,
    url: `${ORIGIN}/`,
    title: xmlText('a]]>\u0001\ud800'),
    content_text: '4.0 KiB in one file',
    date_published: '2023-11-14T22:13:20.000Z',
    attachments: [{ url: `${ORIGIN}/torrents/${infoHash}.torrent`, mime_type: 'application/x-bittorrent', size_in_bytes: encodeTorrent(torrent.metainfo).length }],
    _torrent: { info_hash: infoHash, magnet_uri: (item as { _torrent: { magnet_uri: string } })._torrent.magnet_uri, content_length: 4096 }
  })
  for (const each of feed.items) {
    t.is(typeof each.id, 'string')
    t.true(typeof each.content_text === 'string' || typeof each.content_html === 'string', 'an item needs content_text or content_html')
  }
})
