import test from 'ava'
import { magnetUri } from '../../appliance/metainfo/magnet.js'
import { buildMetainfo, type Metainfo } from '../../appliance/metainfo/metainfo.js'

function metainfo (fields: Partial<Parameters<typeof buildMetainfo>[0]> = {}): Metainfo {
  return buildMetainfo({
    name: 'ünïcødé & co?#=+ 日本語 🎉',
    pieceLength: 16384,
    pieces: Buffer.alloc(40, 7),
    files: [{ path: ['a'], length: 20000 }, { path: ['b'], length: 123 }],
    ...fields
  })
}

/** Characters left unescaped in a query value: anything else must be percent-encoded. */
const SAFE_VALUE = /^[A-Za-z0-9\-_.!~*'()%:]*$/

test('carries the infohash, display name and exact length', (t) => {
  const torrent = metainfo()
  const uri = magnetUri(torrent)
  t.true(uri.startsWith('magnet:?'))
  const params = new URL(uri).searchParams
  t.deepEqual(params.getAll('xt'), [`urn:btih:${torrent.infoHash}`])
  t.regex(torrent.infoHash, /^[0-9a-f]{40}$/)
  t.deepEqual(params.getAll('dn'), [torrent.name])
  t.deepEqual(params.getAll('xl'), ['20123'])
  t.deepEqual(params.getAll('tr'), [])
  t.deepEqual(params.getAll('ws'), [])
})

test('lists every tracker of every tier in order, then every web seed', (t) => {
  const announceList = [['http://tracker.example/announce?key=a&x=1', 'udp://tracker.example:6969'], ['https://ünï.example/ann ounce']]
  const urlList = ['http://seed.example/files/', 'https://seed.example/a b/#frag']
  const uri = magnetUri(metainfo({ announceList, urlList }))
  const params = new URL(uri).searchParams
  t.deepEqual(params.getAll('tr'), announceList.flat())
  t.deepEqual(params.getAll('ws'), urlList)
})

test('percent-encodes every value so no parameter can leak into another', (t) => {
  const uri = magnetUri(metainfo({ announceList: [['http://t.example/a?b=c&d=e#f']], urlList: ['http://w.example/?x=1&y=2'] }))
  const query = uri.slice('magnet:?'.length)
  const pairs = query.split('&').map((pair) => pair.split('='))
  t.deepEqual(pairs.map(([key]) => key), ['xt', 'dn', 'xl', 'tr', 'ws'])
  for (const pair of pairs) {
    t.is(pair.length, 2, pair.join('='))
    t.regex(pair[1]!, SAFE_VALUE)
  }
  t.is(decodeURIComponent(pairs[1]![1]!), 'ünïcødé & co?#=+ 日本語 🎉')
})
