import test from 'ava'
import { Catalog, withForeignTrackers } from '../../appliance/catalog/catalog.js'
import { buildMetainfo } from '../../appliance/metainfo/metainfo.js'

function torrent (name: string, announceList: string[][]): ReturnType<typeof buildMetainfo> {
  return buildMetainfo({ name, pieceLength: 16384, pieces: Buffer.alloc(20), files: [{ path: [], length: 10 }], announceList, urlList: [] })
}

test('a mirrored torrent offers this box\'s trackers first, then the origin\'s it does not already name', (t) => {
  const fields = withForeignTrackers(
    { announceList: [['http://b:6969/announce']], urlList: ['http://b/webseed/x/'] },
    { announceList: [['http://a:6969/announce'], ['http://b:6969/announce']], urlList: ['http://a/webseed/x/', 'http://b/webseed/x/'] })
  t.deepEqual(fields.announceList, [['http://b:6969/announce'], ['http://a:6969/announce']])
  t.deepEqual(fields.urlList, ['http://b/webseed/x/', 'http://a/webseed/x/'])
})

test('a new public host (retrack) gives every torrent this box\'s new trackers, and a mirrored one keeps its origin\'s after them', (t) => {
  const catalog = new Catalog()
  const own = torrent('own', [['http://b:6969/announce']])
  const mirrored = torrent('mirrored', [['http://b:6969/announce'], ['http://a:6969/announce']])
  catalog.add({ metainfo: own, files: [{ absolutePath: '/x/own', size: 10, mtimeMs: 0 }] })
  catalog.add({ metainfo: mirrored, files: [{ absolutePath: '/m/mirrored', size: 10, mtimeMs: 0 }], foreignTrackers: { announceList: [['http://a:6969/announce']], urlList: [] } })
  catalog.retrack(() => ({ announceList: [['http://b:6969/announce'], ['http://b.example.org:6969/announce']], urlList: [] }))
  t.deepEqual(catalog.get(own.infoHash)!.metainfo.announceList, [['http://b:6969/announce'], ['http://b.example.org:6969/announce']])
  t.deepEqual(catalog.get(mirrored.infoHash)!.metainfo.announceList, [['http://b:6969/announce'], ['http://b.example.org:6969/announce'], ['http://a:6969/announce']])
})
