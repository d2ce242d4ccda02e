import { spawnSync } from 'node:child_process'
import type { PublishedTorrent } from '../../../appliance/catalog/catalog.js'
import { buildMetainfo } from '../../../appliance/metainfo/metainfo.js'
import { SYSTEM_PYTHON } from '../../helpers/libtorrent.js'

/** A published torrent of one file of `bytes` named `name`, made without hashing anything (its pieces are zeros). */
export function torrentNamed (name: string, bytes: number, creationDate?: number): PublishedTorrent {
  const pieceLength = 16 * 1024
  const metainfo = buildMetainfo({
    name,
    pieceLength,
    pieces: Buffer.alloc(20 * Math.max(1, Math.ceil(bytes / pieceLength))),
    files: [{ path: [], length: bytes }],
    announceList: [['http://127.0.0.1:6969/announce']],
    ...(creationDate !== undefined && { creationDate })
  })
  return { metainfo, files: [{ absolutePath: `/nonexistent/${bytes}`, size: bytes, mtimeMs: 0 }] }
}

/** An RSS item as python3's xml.etree (expat, a strict XML 1.0 parser) reads it. */
export interface ParsedItem {
  readonly title: string
  readonly guid: string
  readonly pubDate: string
  readonly link: string
  readonly enclosure: Record<string, string>
  readonly torrent: { readonly infoHash: string, readonly magnetURI: string, readonly contentLength: string }
}

export interface ParsedRss {
  readonly lastBuildDate: string
  readonly items: ParsedItem[]
}

const PARSE_RSS = `
import json, sys
import xml.etree.ElementTree as ET
root = ET.fromstring(sys.stdin.buffer.read())
ns = '{http://xmlns.ezrss.it/0.1/}'
channel = root.find('channel')
items = []
for item in channel.findall('item'):
    torrent = item.find(ns + 'torrent')
    items.append({
        'title': item.findtext('title'), 'guid': item.findtext('guid'), 'pubDate': item.findtext('pubDate'), 'link': item.findtext('link'),
        'enclosure': item.find('enclosure').attrib,
        'torrent': {key: torrent.findtext(ns + key) for key in ('infoHash', 'magnetURI', 'contentLength')}
    })
json.dump({'lastBuildDate': channel.findtext('lastBuildDate'), 'items': items}, sys.stdout)
`

/** Parses an RSS document with a real XML parser; throws with the parser's message when it is not well-formed. */
export function parseRss (xml: string | Buffer): ParsedRss {
  const result = spawnSync(SYSTEM_PYTHON, ['-c', PARSE_RSS], { input: xml, encoding: 'utf8' })
  if (result.error !== undefined) throw new Error(`${SYSTEM_PYTHON} did not run (install python3): ${result.error.message}`)
  if (result.status !== 0) throw new Error(`not well-formed XML: ${result.stderr}`)
  return JSON.parse(result.stdout) as ParsedRss
}
