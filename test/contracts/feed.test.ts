import test from 'ava'
import { spawnSync } from 'node:child_process'
import { Feed } from 'feed'
import { SYSTEM_PYTHON } from '../helpers/libtorrent.js'

// What appliance/web/feed/rss-feed.ts relies on in feed 6 beyond its README: an item's `extensions`
// are written as child elements of the item from xml-js's compact objects (`_attributes`, `_text`,
// `_cdata`), a `_cdata` array as CDATA sections back to back, an empty title as no <title>; the
// enclosure's type and length as given; `updated` as the channel's lastBuildDate. And why names go
// in as several sections: feed splits only the first `]]>` of one.

function rssWith (item: Partial<Parameters<Feed['addItem']>[0]>, updated = new Date(Date.UTC(2026, 0, 2, 3, 4, 5))): string {
  const feed = new Feed({ title: 'box', id: 'http://box.example/', link: 'http://box.example/', updated, generator: 'test' })
  feed.addItem({ title: '', link: 'http://box.example/', date: new Date(0), ...item })
  return feed.rss2()
}

/** What python3's expat makes of the document: the first item's children as [tag, text, attributes], and lastBuildDate. */
function parse (xml: string): { lastBuildDate: string, children: Array<[string, string, Record<string, string>]> } {
  const script = `
import json, sys
import xml.etree.ElementTree as ET
channel = ET.fromstring(sys.stdin.buffer.read()).find('channel')
item = channel.find('item')
json.dump({'lastBuildDate': channel.findtext('lastBuildDate'), 'children': [[child.tag, ''.join(child.itertext()), child.attrib] for child in item]}, sys.stdout)
`
  const result = spawnSync(SYSTEM_PYTHON, ['-c', script], { input: xml, encoding: 'utf8' })
  if (result.error !== undefined) throw new Error(`${SYSTEM_PYTHON} did not run (install python3): ${result.error.message}`)
  if (result.status !== 0) throw new Error(`not well-formed XML: ${result.stderr}`)
  return JSON.parse(result.stdout) as ReturnType<typeof parse>
}

test('extensions become child elements of the item, from compact objects; a _cdata array is read back as one text', (t) => {
  const { children } = parse(rssWith({
    extensions: [
      { name: 'title', objects: { _cdata: ['a]]', '>b'] } },
      { name: 'torrent', objects: { _attributes: { xmlns: 'urn:example' }, infoHash: { _text: 'ab' }, magnetURI: { _cdata: ['m&n'] } } }
    ]
  }))
  t.deepEqual(children.filter(([tag]) => tag === 'title'), [['title', 'a]]>b', {}]], 'one title only: an empty one is left out')
  // The torrent element's text is its children's (infoHash, magnetURI) between the indentation.
  t.deepEqual(children.filter(([tag]) => tag.startsWith('{urn:example}')).map(([tag, text]) => [tag, text.replace(/\s/g, '')]), [['{urn:example}torrent', 'abm&n']])
})

test('the enclosure has the type and length given; updated is the lastBuildDate', (t) => {
  const updated = new Date(Date.UTC(2030, 5, 6, 7, 8, 9))
  const parsed = parse(rssWith({ enclosure: { url: 'http://box.example/torrents/ab.torrent', type: 'application/x-bittorrent', length: 1234 } }, updated))
  t.is(parsed.lastBuildDate, updated.toUTCString())
  t.deepEqual(parsed.children.find(([tag]) => tag === 'enclosure')?.[2], { url: 'http://box.example/torrents/ab.torrent', type: 'application/x-bittorrent', length: '1234' })
})

test('why names are given as CDATA sections cut at ]]>: a title with two ]]> is not well-formed XML', (t) => {
  t.throws(() => parse(rssWith({ title: 'a]]>b]]>c' })), { message: /not well-formed/ })
})
