import test from 'ava'
import bencode from 'bencode'
import { boundedGet } from '../../appliance/mirror/bounded-get.js'
import { parseJsonFeed } from '../../appliance/mirror/json-feed-listing.js'
import { parseMirrorState } from '../../appliance/mirror/mirror-state.js'
import { peersOfAnswer } from '../../appliance/mirror/tracker-peers.js'
import { startFeedServer } from './feed-server.js'

const HASH = 'a'.repeat(40)
const FEED = 'http://box.local/feed.json'

function item (fields: Record<string, unknown>): Record<string, unknown> {
  return { title: 'x', attachments: [{ url: '/torrents/x.torrent', mime_type: 'application/x-bittorrent' }], _torrent: { info_hash: HASH, content_length: 5 }, ...fields }
}

function feed (items: unknown[]): string {
  return JSON.stringify({ version: 'https://jsonfeed.org/version/1.1', items })
}

test('a JSON Feed entry is kept with its .torrent URL resolved against the feed; malformed entries are refused one by one, with why', (t) => {
  const { entries, refused } = parseJsonFeed(feed([
    item({}),
    item({ _torrent: { info_hash: 'zz', content_length: 5 } }),
    item({ _torrent: { info_hash: HASH.replace('a', 'b'), content_length: -1 } }),
    item({ _torrent: { info_hash: 'c'.repeat(40), content_length: 5 }, attachments: [{ url: 'file:///etc/passwd', mime_type: 'application/x-bittorrent' }] }),
    item({ _torrent: { info_hash: 'd'.repeat(40), content_length: 5 }, attachments: [] }),
    'not an object',
    item({ title: 'again' })
  ]), FEED, 100)
  t.deepEqual(entries, [{ infoHash: HASH, name: 'x', bytes: 5, torrentUrl: 'http://box.local/torrents/x.torrent' }])
  t.is(refused.length, 5)
  t.regex(refused.join('\n'), /info_hash is not 40 hex digits/)
  t.regex(refused.join('\n'), /content_length is not a size/)
  t.regex(refused.join('\n'), /not http\(s\)/)
  t.regex(refused.join('\n'), /no application\/x-bittorrent attachment/)
})

test('a document that is no JSON Feed throws; items beyond the bound are ignored, and said so', (t) => {
  t.throws(() => parseJsonFeed('{', FEED, 10), { message: /not JSON/ })
  t.throws(() => parseJsonFeed('\n <?xml version="1.0"?><rss/>', 'http://box.local/feed.xml', 10), { message: /XML \(RSS or Atom\) feed, not a JSON Feed: a mirror follows a box's \/feed\.json \(http:\/\/box\.local\/feed\.json\)$/ })
  t.throws(() => parseJsonFeed('<rss/>', 'http://box.local/news.rss', 10), { message: /XML \(RSS or Atom\) feed, not a JSON Feed: a mirror follows a box's \/feed\.json$/ })
  t.throws(() => parseJsonFeed('{"items": []}', FEED, 10), { message: /not a JSON Feed/ })
  t.throws(() => parseJsonFeed('[1]', FEED, 10), { message: /not a JSON Feed/ })
  const many = Array.from({ length: 5 }, (_, index) => item({ _torrent: { info_hash: String(index).repeat(40), content_length: 1 } }))
  const { entries, refused } = parseJsonFeed(feed(many), FEED, 3)
  t.is(entries.length, 3)
  t.deepEqual(refused, ['items beyond the first 3 are ignored'])
})

test('tracker answers: compact and dictionary peers are read, anything else gives none', (t) => {
  t.deepEqual(peersOfAnswer(bencode.encode({ interval: 60, peers: Buffer.from([127, 0, 0, 1, 0x1a, 0xe1, 10, 0, 0, 2, 0, 0]) })), [{ host: '127.0.0.1', port: 6881 }])
  t.deepEqual(peersOfAnswer(bencode.encode({ peers: [{ ip: '127.0.0.2', port: 7000 }, { ip: 5 }, 'junk'] })), [{ host: '127.0.0.2', port: 7000 }])
  t.deepEqual(peersOfAnswer(Buffer.from('not bencode')), [])
  t.deepEqual(peersOfAnswer(bencode.encode({ 'failure reason': 'unregistered torrent' })), [])
  t.deepEqual(peersOfAnswer(bencode.encode(5)), [])
})

test('a mirror state file: read back as written; damaged ones are refused; another origin\'s is an empty start', (t) => {
  const state = { origin: FEED, items: [{ infoHash: HASH, name: 'x', bytes: 5, firstSeenAt: 1, goneAt: 2 }], complete: { [HASH]: [{ path: 'x', size: 5, mtimeMs: 1.5 }] } }
  t.deepEqual(parseMirrorState(JSON.stringify({ version: 1, ...state }), FEED), state)
  t.deepEqual(parseMirrorState(JSON.stringify({ version: 1, ...state }), 'http://other/feed.json'), { origin: 'http://other/feed.json', items: [], complete: {} })
  t.true('refused' in parseMirrorState('{', FEED))
  t.true('refused' in parseMirrorState(JSON.stringify({ version: 2, ...state }), FEED))
  t.true('refused' in parseMirrorState(JSON.stringify({ version: 1, ...state, items: [{ ...state.items[0], infoHash: '../x' }] }), FEED))
  t.true('refused' in parseMirrorState(JSON.stringify({ version: 1, ...state, complete: { [HASH]: [{ path: 'x', size: -1, mtimeMs: 0 }] } }), FEED))
})

test('an HTTP answer beyond its byte bound, with an error status, or too slow is refused with a code', async (t) => {
  const server = await startFeedServer(t, {
    '/big': (_, response) => { response.writeHead(200).end(Buffer.alloc(2000)) },
    '/chunked': (_, response) => { response.writeHead(200); for (let i = 0; i < 10; i++) response.write(Buffer.alloc(300)); response.end() },
    '/gone': (_, response) => { response.writeHead(410).end() },
    '/slow': () => { /* never answers */ },
    '/fine': (_, response) => { response.writeHead(200).end('ok') }
  })
  await t.throwsAsync(boundedGet(`${server.origin}/big`, { maxBytes: 1000, timeoutMs: 5000 }), { code: 'ET_MIRROR_TOO_LARGE' })
  await t.throwsAsync(boundedGet(`${server.origin}/chunked`, { maxBytes: 1000, timeoutMs: 5000 }), { code: 'ET_MIRROR_TOO_LARGE' })
  await t.throwsAsync(boundedGet(`${server.origin}/gone`, { maxBytes: 1000, timeoutMs: 5000 }), { code: 'ET_MIRROR_UNREACHABLE', message: /HTTP 410/ })
  await t.throwsAsync(boundedGet(`${server.origin}/slow`, { maxBytes: 1000, timeoutMs: 300 }), { code: 'ET_MIRROR_TOO_LARGE', message: /within 300 ms/ })
  await t.throwsAsync(boundedGet('ftp://127.0.0.1/x', { maxBytes: 1000, timeoutMs: 300 }), { code: 'ET_MIRROR_REFUSED' })
  t.is((await boundedGet(`${server.origin}/fine`, { maxBytes: 1000, timeoutMs: 5000 })).toString(), 'ok')
})
