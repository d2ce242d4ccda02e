import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import test from 'ava'
import { Catalog, type PublishedTorrent } from '../../appliance/catalog/catalog.js'
import { BoxCatalog } from '../../appliance/identity/box-catalog.js'
import { parseCatalogDocument } from '../../appliance/identity/catalog-document.js'
import { buildMetainfo, type InfoHash } from '../../appliance/metainfo/metainfo.js'
import { tempDir } from '../helpers/temp-dir.js'
import { eventually } from '../dht/dht-nodes.js'

const key = 'ef'.repeat(32)

function userTorrent (name: string, size: number, isPrivate = false): PublishedTorrent {
  const metainfo = buildMetainfo({ name, pieceLength: 16384, pieces: Buffer.alloc(20 * Math.ceil(size / 16384)), files: [{ path: [], length: size }], private: isPrivate })
  return { metainfo, files: [{ absolutePath: `/nowhere/${name}`, size, mtimeMs: 0 }] }
}

function internalTorrents (catalog: Catalog): PublishedTorrent[] {
  return [...catalog.all()].filter((torrent) => torrent.internal === true)
}

test('the catalog torrent lists the public torrents, is rebuilt when they change, and replaces the one before', async (t) => {
  const folder = join(tempDir(t), 'catalog')
  const catalog = new Catalog()
  catalog.add(userTorrent('first.bin', 100_000))
  catalog.add(userTorrent('private.bin', 5, true))
  const boxCatalog = new BoxCatalog({ catalog, publicKeyHex: key, folder, trackersFor: () => ({ announceList: [['http://127.0.0.1:1/announce']], urlList: [] }), createdBy: 'test', rebuildMs: 50 })
  const changes: InfoHash[] = []
  boxCatalog.on('changed', ({ infoHash }) => changes.push(infoHash))
  await boxCatalog.start()
  t.teardown(async () => { await boxCatalog.close() })
  t.deepEqual(internalTorrents(catalog), [], 'nothing before the first change or publishNow')
  await boxCatalog.publishNow()
  const [first] = internalTorrents(catalog)
  t.truthy(first)
  t.is(boxCatalog.infoHash, first!.metainfo.infoHash)
  t.deepEqual(first!.metainfo.announceList, [['http://127.0.0.1:1/announce']])
  const firstFile = first!.files.at(0)!.absolutePath
  const document = parseCatalogDocument(readFileSync(firstFile))
  t.is(document.publicKey, key)
  t.deepEqual(document.items.map((item) => [item.name, item.size]), [['first.bin', 100_000]], 'the private torrent is not listed')

  // Three changes in a row: one rebuild.
  catalog.add(userTorrent('second.bin', 200))
  catalog.add(userTorrent('third.bin', 300))
  catalog.remove(catalog.all().next().value!.metainfo.infoHash)
  await eventually(() => changes.length === 2, 10_000, 'the rebuild')
  t.is(changes.length, 2)
  const [second] = internalTorrents(catalog)
  t.is(internalTorrents(catalog).length, 1, 'the old catalog torrent is withdrawn')
  t.not(second!.metainfo.infoHash, first!.metainfo.infoHash)
  t.false(existsSync(firstFile), 'and its file deleted')
  t.deepEqual(readdirSync(folder), [second!.files.at(0)!.absolutePath.split('/').pop()])
  t.deepEqual(parseCatalogDocument(readFileSync(second!.files.at(0)!.absolutePath)).items.map((item) => item.name).sort(), ['second.bin', 'third.bin'])
})
