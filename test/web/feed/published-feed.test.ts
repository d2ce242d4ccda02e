import test, { type ExecutionContext } from 'ava'
import { Catalog } from '../../../appliance/catalog/catalog.js'
import { ownHostNames } from '../../../appliance/net/own-host.js'
import { isNotModified } from '../../../appliance/web/feed/conditional-get.js'
import { MAX_FEED_RENDERINGS, PublishedFeed } from '../../../appliance/web/feed/published-feed.js'
import { HttpServer, httpServerOptionsFrom } from '../../../appliance/web/http-server.js'
import { DEFAULTS } from '../../helpers/defaults.js'
import { httpGet } from '../http-client.js'
import { HOST } from '../fixture.js'
import { parseRss, torrentNamed } from './fixture.js'

const CONFIGURED = 'http://box.example:8080'

interface Fixture {
  readonly feed: PublishedFeed
  readonly catalog: Catalog
  readonly port: number
  readonly clock: { now: number }
}

async function startFeed (t: ExecutionContext, maxItems = 50): Promise<Fixture> {
  const catalog = new Catalog()
  const clock = { now: Date.UTC(2026, 0, 1) }
  const http = new HttpServer({ ...httpServerOptionsFrom(DEFAULTS), port: 0, host: HOST })
  const feed = new PublishedFeed({ catalog, maxItems, boxName: 'pi', hostNames: () => ownHostNames('pi'), origin: () => CONFIGURED, now: () => clock.now })
  feed.mount(http)
  await http.start()
  t.teardown(async () => {
    feed.close()
    await http.close()
  })
  return { feed, catalog, port: http.port, clock }
}

test('isNotModified: If-None-Match (weak comparison, lists, *) wins over If-Modified-Since, which compares whole seconds', (t) => {
  const etag = '"abc"'
  const at = Date.UTC(2026, 0, 1, 0, 0, 0, 700)
  t.true(isNotModified({ 'if-none-match': '"abc"' }, etag, at))
  t.true(isNotModified({ 'if-none-match': 'W/"abc"' }, etag, at))
  t.true(isNotModified({ 'if-none-match': '"x", "abc"' }, etag, at))
  t.true(isNotModified({ 'if-none-match': '*' }, etag, at))
  t.false(isNotModified({ 'if-none-match': '"abd"', 'if-modified-since': new Date(at + 60_000).toUTCString() }, etag, at))
  t.true(isNotModified({ 'if-modified-since': new Date(at).toUTCString() }, etag, at))
  t.false(isNotModified({ 'if-modified-since': new Date(at - 1000).toUTCString() }, etag, at))
  t.false(isNotModified({ 'if-modified-since': 'yesterday' }, etag, at))
  t.false(isNotModified({}, etag, at))
})

test('GET /feed.xml and /feed.json: content types, ETag, Last-Modified, no-cache; HEAD has the headers and no body', async (t) => {
  const { catalog, port } = await startFeed(t)
  catalog.add(torrentNamed('one', 100, 1_700_000_000))
  for (const [path, type] of [['/feed.xml', 'application/rss+xml; charset=utf-8'], ['/feed.json', 'application/feed+json']] as const) {
    const got = await httpGet(HOST, port, path)
    t.is(got.status, 200, path)
    t.is(got.headers['content-type'], type)
    t.regex(String(got.headers.etag), /^"[\w-]{22}"$/)
    t.is(got.headers['last-modified'], new Date(Date.UTC(2026, 0, 1)).toUTCString())
    t.is(got.headers['cache-control'], 'no-cache')
    const head = await httpGet(HOST, port, path, { method: 'HEAD' })
    t.is(head.status, 200)
    t.is(head.body.length, 0)
    t.is(head.headers['content-length'], String(got.body.length))
    t.is(head.headers.etag, got.headers.etag)
  }
})

test('a matching ETag or a recent If-Modified-Since gets 304; a catalog change gives a new ETag and a later Last-Modified', async (t) => {
  const { catalog, port, clock } = await startFeed(t)
  catalog.add(torrentNamed('one', 100, 1_700_000_000))
  const first = await httpGet(HOST, port, '/feed.xml')
  const etag = String(first.headers.etag)
  const notModified = await httpGet(HOST, port, '/feed.xml', { headers: { 'If-None-Match': etag } })
  t.is(notModified.status, 304)
  t.is(notModified.body.length, 0)
  t.is(notModified.headers.etag, etag)
  t.is((await httpGet(HOST, port, '/feed.xml', { method: 'HEAD', headers: { 'If-None-Match': etag } })).status, 304)
  t.is((await httpGet(HOST, port, '/feed.xml', { headers: { 'If-Modified-Since': String(first.headers['last-modified']) } })).status, 304)
  t.is((await httpGet(HOST, port, '/feed.xml', { headers: { 'If-None-Match': '"other"' } })).status, 200)

  catalog.add(torrentNamed('two', 200, 1_700_000_100))
  const second = await httpGet(HOST, port, '/feed.xml', { headers: { 'If-None-Match': etag } })
  t.is(second.status, 200)
  t.not(second.headers.etag, etag)
  t.is(Date.parse(String(second.headers['last-modified'])), Date.parse(String(first.headers['last-modified'])) + 1000, 'one second later at least, though the clock stood still')
  const parsed = parseRss(second.body)
  t.deepEqual(parsed.items.map((item) => item.title), ['two', 'one'])
  t.is(parsed.lastBuildDate, String(second.headers['last-modified']), 'lastBuildDate changes with the items: qBittorrent skips a feed whose lastBuildDate it has seen')

  clock.now += 3_600_000
  catalog.remove(torrentNamed('nothing published', 1, 1).metainfo.infoHash)
  catalog.add(torrentNamed('two', 200, 1_700_000_100))
  t.is((await httpGet(HOST, port, '/feed.xml', { headers: { 'If-None-Match': String(second.headers.etag) } })).status, 304, 'the same entries again: the same feed')
})

test('only the newest web.feed_max_items torrents are in the feeds', async (t) => {
  const { catalog, port } = await startFeed(t, 3)
  for (let index = 0; index < 7; index++) catalog.add(torrentNamed(`item ${index}`, 100 + index, 1_700_000_000 + index))
  t.deepEqual(parseRss((await httpGet(HOST, port, '/feed.xml')).body).items.map((item) => item.title), ['item 6', 'item 5', 'item 4'])
  const json = JSON.parse((await httpGet(HOST, port, '/feed.json')).body.toString()) as { items: Array<{ title: string }> }
  t.deepEqual(json.items.map((item) => item.title), ['item 6', 'item 5', 'item 4'])
})

test('URLs name the host the request came by when it is the box\'s (its names, IP literals), else the configured origin', async (t) => {
  const { catalog, port } = await startFeed(t)
  const torrent = torrentNamed('one', 100, 1_700_000_000)
  catalog.add(torrent)
  const torrentPath = `/torrents/${torrent.metainfo.infoHash}.torrent`
  const enclosureBy = async (host: string | undefined): Promise<string> => {
    const got = await httpGet(HOST, port, '/feed.xml', host === undefined ? {} : { headers: { Host: host } })
    return parseRss(got.body).items[0]!.enclosure.url!
  }
  t.is(await enclosureBy(`127.0.0.1:${port}`), `http://127.0.0.1:${port}${torrentPath}`)
  t.is(await enclosureBy('PI.local:8080'), `http://pi.local:8080${torrentPath}`)
  t.is(await enclosureBy('pi'), `http://pi${torrentPath}`)
  t.is(await enclosureBy('[fd00::5]:8080'), `http://[fd00::5]:8080${torrentPath}`)
  t.is(await enclosureBy('attacker.example'), `${CONFIGURED}${torrentPath}`)
  t.is(await enclosureBy('a"b<c>'), `${CONFIGURED}${torrentPath}`)
  const json = JSON.parse((await httpGet(HOST, port, '/feed.json', { headers: { Host: 'evil.example:80' } })).body.toString()) as { feed_url: string }
  t.is(json.feed_url, `${CONFIGURED}/feed.json`)
})

test('renderings for many origins: at most MAX_FEED_RENDERINGS are kept, and each answer is still right', async (t) => {
  const { feed, catalog, port } = await startFeed(t)
  catalog.add(torrentNamed('one', 100, 1_700_000_000))
  for (let index = 1; index <= MAX_FEED_RENDERINGS * 2; index++) {
    const got = await httpGet(HOST, port, '/feed.xml', { headers: { Host: `10.0.0.${index}` } })
    t.true(parseRss(got.body).items[0]!.enclosure.url!.startsWith(`http://10.0.0.${index}/`))
    t.true(feed.renderingCount <= MAX_FEED_RENDERINGS)
  }
  t.is(feed.renderingCount, MAX_FEED_RENDERINGS)
})

test('new trackers for every torrent (the public host changed) are in the feeds at once: magnet links and .torrent lengths', async (t) => {
  const { catalog, port } = await startFeed(t)
  const torrent = torrentNamed('one', 100, 1_700_000_000)
  catalog.add(torrent)
  const before = parseRss((await httpGet(HOST, port, '/feed.xml')).body).items[0]!
  catalog.retrack(() => ({ announceList: [['http://127.0.0.1:6969/announce'], ['http://203.0.113.7:6969/announce']], urlList: [] }))
  const after = parseRss((await httpGet(HOST, port, '/feed.xml')).body).items[0]!
  t.true(after.torrent.magnetURI.includes(encodeURIComponent('http://203.0.113.7:6969/announce')))
  t.false(before.torrent.magnetURI.includes(encodeURIComponent('http://203.0.113.7:6969/announce')))
  t.true(Number(after.enclosure.length) > Number(before.enclosure.length))
})
