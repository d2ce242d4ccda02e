import test from 'ava'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseTorrent } from '../../appliance/metainfo/metainfo.js'
import { writeTree } from '../helpers/content.js'
import { ServeProcess, type LogLine } from '../helpers/serve-process.js'
import { tempDir } from '../helpers/temp-dir.js'
import { parseRss } from '../web/feed/fixture.js'
import { httpGet } from '../web/http-client.js'

// The feeds on a real `evertorrent serve`: what an HTTP client sees, and the publish time across a restart.

const published = (name: string) => (line: LogLine): boolean => line.msg === 'published' && line.name === name

interface JsonFeedItem {
  readonly id: string
  readonly title: string
  readonly date_published: string
  readonly attachments: Array<{ url: string, mime_type: string, size_in_bytes: number }>
  readonly _torrent: { info_hash: string, magnet_uri: string, content_length: number }
}

test('serve answers /feed.xml and /feed.json with their types, ETags, 304s and HEAD; the enclosures are its .torrent files', async (t) => {
  const root = tempDir(t)
  const library = join(root, 'library')
  writeTree(library, { 'album/a.bin': 70_000, 'album/b.bin': 30_000, 'single.bin': 12_345 })
  const serve = await ServeProcess.start(t, { libraries: [library], stateDir: join(root, 'state'), settings: { 'web.feed_max_items': 5 } })
  const lines = [await serve.waitFor(published('album')), await serve.waitFor(published('single.bin'))]
  const host = '127.0.0.1'
  const port = serve.httpPort

  const xml = await httpGet(host, port, '/feed.xml')
  t.is(xml.status, 200)
  t.is(xml.headers['content-type'], 'application/rss+xml; charset=utf-8')
  const rss = parseRss(xml.body)
  t.deepEqual(rss.items.map((item) => item.title).sort(), ['album', 'single.bin'])
  for (const item of rss.items) {
    const line = lines.find((each) => each.name === item.title)!
    t.is(item.guid, `urn:btih:${line.infohash!}`)
    t.is(item.enclosure.type, 'application/x-bittorrent')
    t.is(item.torrent.infoHash, line.infohash)
    t.is(item.torrent.contentLength, line.size)
    t.is(item.torrent.magnetURI, line.magnet)
    const url = new URL(item.enclosure.url!)
    t.is(url.origin, `http://${host}:${port}`)
    const file = await httpGet(host, port, url.pathname)
    t.is(file.status, 200)
    t.is(file.headers['content-type'], 'application/x-bittorrent')
    t.is(String(file.body.length), item.enclosure.length, 'the enclosure length is the .torrent\'s')
    t.is(parseTorrent(file.body).infoHash as string, line.infohash)
  }

  const json = await httpGet(host, port, '/feed.json')
  t.is(json.status, 200)
  t.is(json.headers['content-type'], 'application/feed+json')
  const feed = JSON.parse(json.body.toString('utf8')) as { version: string, items: JsonFeedItem[] }
  t.is(feed.version, 'https://jsonfeed.org/version/1.1')
  t.deepEqual(feed.items.map((item) => item.id), rss.items.map((item) => item.guid), 'both feeds list the same entries in the same order')
  t.deepEqual(feed.items.map((item) => item.attachments[0]!.url), rss.items.map((item) => item.enclosure.url))

  for (const path of ['/feed.xml', '/feed.json']) {
    const full = await httpGet(host, port, path)
    const etag = String(full.headers.etag)
    t.is((await httpGet(host, port, path, { headers: { 'If-None-Match': etag } })).status, 304, path)
    t.is((await httpGet(host, port, path, { headers: { 'If-Modified-Since': String(full.headers['last-modified']) } })).status, 304, path)
    const head = await httpGet(host, port, path, { method: 'HEAD' })
    t.is(head.status, 200)
    t.is(head.body.length, 0)
    t.is(head.headers['content-length'], String(full.body.length))
    t.is((await httpGet(host, port, path, { method: 'POST' })).status, 405)
  }

  // A Host that is not one of the box's names (DNS rebinding, a typo) gets the box's own address in the URLs.
  const foreign = parseRss((await httpGet(host, port, '/feed.xml', { headers: { Host: 'attacker.example' } })).body)
  t.true(foreign.items.every((item) => item.enclosure.url!.startsWith(`http://127.0.0.1:${port}/torrents/`)))

  const page = (await httpGet(host, port, '/')).body.toString('utf8')
  t.regex(page, /<link rel="alternate" type="application\/rss\+xml"[^>]* href="\/feed\.xml">/)
  t.regex(page, /<link rel="alternate" type="application\/feed\+json"[^>]* href="\/feed\.json">/)
  t.regex(page, /<a href="\/feed\.xml"/)
})

test('an item keeps its publish time across a restart (it is resumed, not published anew); a new item is newer and first', async (t) => {
  const root = tempDir(t)
  const library = join(root, 'library')
  const options = { libraries: [library], stateDir: join(root, 'state') }
  writeTree(library, { 'first.bin': 40_000 })
  const before = Date.now()
  const serve = await ServeProcess.start(t, options)
  const first = await serve.waitFor(published('first.bin'))
  const feedOf = async (running: ServeProcess): Promise<JsonFeedItem[]> =>
    (JSON.parse((await httpGet('127.0.0.1', running.httpPort, '/feed.json')).body.toString('utf8')) as { items: JsonFeedItem[] }).items
  const [item] = await feedOf(serve)
  const publishedAt = Date.parse(item!.date_published)
  t.true(publishedAt >= Math.floor(before / 1000) * 1000 && publishedAt <= Date.now(), item!.date_published)
  t.is(parseTorrent(await readFile(first.torrent!)).creationDate! * 1000, publishedAt, 'the publish time is the creation date kept in the state directory')
  await serve.stop()

  // Creation dates have whole seconds: the next item must be stamped in a later one to be newer.
  while (Date.now() < publishedAt + 1000) await sleep(50)
  writeTree(library, { 'second.bin': 50_000 })
  const again = await ServeProcess.start(t, options)
  t.is((await again.waitFor(published('first.bin'))).resumed, 'true')
  await again.waitFor(published('second.bin'))
  const items = await feedOf(again)
  t.deepEqual(items.map((each) => each.title), ['second.bin', 'first.bin'])
  t.is(items[1]!.date_published, item!.date_published)
})
