import test from 'ava'
import type { InfoHash } from '../../appliance/metainfo/metainfo.js'
import { TorrentUrls } from '../../appliance/web/torrent-urls.js'

const INFO_HASH = 'aa'.repeat(20) as InfoHash

test('LAN only: the tracker over HTTP and UDP on one port, one web seed', (t) => {
  const urls = new TorrentUrls({ host: 'box.local', trackerPort: 6969, httpPort: 8080 })
  t.deepEqual(urls.trackersFor(INFO_HASH), {
    announceList: [['http://box.local:6969/announce'], ['udp://box.local:6969']],
    urlList: [`http://box.local:8080/webseed/${INFO_HASH}/`]
  })
  t.deepEqual(urls.hosts, ['box.local'])
})

test('a public host adds tiers and a web seed after the LAN ones, only for the ports reachable there', (t) => {
  const urls = new TorrentUrls({ host: 'box.local', trackerPort: 6969, httpPort: 8080 })
  t.true(urls.setPublic({ host: '2001:db8::1', trackerPort: 16969 }))
  t.deepEqual(urls.trackersFor(INFO_HASH), {
    announceList: [['http://box.local:6969/announce'], ['udp://box.local:6969'], ['http://[2001:db8::1]:16969/announce'], ['udp://[2001:db8::1]:16969']],
    urlList: [`http://box.local:8080/webseed/${INFO_HASH}/`]
  })
  t.false(urls.setPublic({ host: '2001:db8::1', trackerPort: 16969 }), 'the same again changes nothing')
  t.true(urls.setPublic({ host: 'box.example.org', trackerPort: 6969, httpPort: 8080 }))
  t.deepEqual(urls.trackersFor(INFO_HASH).urlList, [`http://box.local:8080/webseed/${INFO_HASH}/`, `http://box.example.org:8080/webseed/${INFO_HASH}/`])
  t.deepEqual(urls.hosts, ['box.local', 'box.example.org'])
})

test('isOwn knows every URL of the box, LAN and public, and no other', (t) => {
  const urls = new TorrentUrls({ host: 'box.local', trackerPort: 6969, httpPort: 8080 })
  urls.setPublic({ host: '203.0.113.1', trackerPort: 16969, httpPort: 18080 })
  for (const url of ['http://box.local:6969/announce', 'udp://box.local:6969', 'http://203.0.113.1:16969/announce', 'udp://203.0.113.1:16969/announce', 'http://203.0.113.1:18080/announce']) t.true(urls.isOwn(url), url)
  for (const url of ['http://tracker.example.org:6969/announce', 'udp://203.0.113.1:6969', 'http://box.local:69690/announce']) t.false(urls.isOwn(url), url)
  urls.setPublic(undefined)
  t.false(urls.isOwn('http://203.0.113.1:16969/announce'), 'a public host given up is no longer own')
})
