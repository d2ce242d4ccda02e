import { setTimeout } from 'node:timers/promises'
import test from 'ava'
import { Catalog, type PublishedTorrent } from '../../appliance/catalog/catalog.js'
import { Dht } from '../../appliance/dht/dht.js'
import type { InfoHash, Metainfo } from '../../appliance/metainfo/metainfo.js'
import { tempDir } from '../helpers/temp-dir.js'
import { eventually, startTestNode } from './dht-nodes.js'

// The engine in this process against a bootstrap node of the test's own, with an announce interval
// of a fraction of a second (the setting's floor is a minute), so re-announces can be watched.

function torrent (index: number, isPrivate = false): PublishedTorrent {
  const infoHash = index.toString(16).padStart(40, 'c') as InfoHash
  return { metainfo: { infoHash, private: isPrivate, files: [] } as unknown as Metainfo, files: [] }
}

test('every published torrent is announced, again after the interval; a withdrawn or private one is not', async (t) => {
  const bootstrap = await startTestNode(t, '127.0.0.3')
  const catalog = new Catalog()
  const published = Array.from({ length: 30 }, (_, index) => torrent(index))
  for (const item of published) catalog.add(item)
  const secret = torrent(99, true)
  catalog.add(secret)
  const dht = new Dht({
    enabled: true, port: 0, anyPortIfTaken: false, host: '127.0.0.1', ownHost: '127.0.0.1', peerPort: 7777,
    bootstrap: [bootstrap.address], announceIntervalMs: 500, maxPeers: 100, maxLookups: 8, stateDir: tempDir(t), catalog
  })
  await dht.start()
  t.teardown(async () => { await dht.close() })
  const count = (hash: string): number => bootstrap.announces.filter((a) => a.infoHash === hash && a.port === 7777).length
  await eventually(() => published.every((item) => count(item.metainfo.infoHash) >= 2), 30_000, 'two announces of each published torrent')

  const withdrawn = published[0]!.metainfo.infoHash
  catalog.remove(withdrawn)
  // An announce already in flight may still land; none may start after it.
  await setTimeout(300)
  const after = count(withdrawn)
  const kept = published[1]!.metainfo.infoHash
  const keptBefore = count(kept)
  await eventually(() => count(kept) >= keptBefore + 2, 30_000, 'more announces of a torrent still published')
  t.is(count(withdrawn), after, 'no announce after the withdrawal')
  t.is(count(secret.metainfo.infoHash), 0, 'a private torrent is never announced (BEP 27)')
  t.is(dht.snapshot().announced, 29)
  t.true(dht.snapshot().bootstrapped)
  t.true(dht.snapshot().lastAnnounceAt !== undefined)
})
