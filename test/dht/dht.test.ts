import { setTimeout } from 'node:timers/promises'
import test from 'ava'
import { Catalog, type PublishedTorrent } from '../../appliance/catalog/catalog.js'
import { ConfigError, withOverrides } from '../../appliance/config/settings.js'
import { ANNOUNCE_SPACING_MS, Dht, dhtOptionsFrom } from '../../appliance/dht/dht.js'
import type { InfoHash, Metainfo } from '../../appliance/metainfo/metainfo.js'
import { DEFAULTS } from '../helpers/defaults.js'
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
    bootstrap: [bootstrap.address], announceIntervalMs: 500, announceSpacingMs: 5, maxPeers: 100, maxLookups: 8, maxItems: 10, stateDir: tempDir(t), catalog
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

test('options from the settings: the port follows the peer port; the own address is known only when it can be; bad bootstrap nodes are config errors', (t) => {
  const options = dhtOptionsFrom(DEFAULTS, 51413)
  t.is(options.port, 51413)
  t.is(options.host, '0.0.0.0')
  t.is(options.ownHost, undefined, 'listening everywhere behind a name: the nodes we announce to list us at the address they see')
  t.is(dhtOptionsFrom(withOverrides(DEFAULTS, { 'dht.port': 7000 }, 'test'), 51413).port, 7000)
  t.is(dhtOptionsFrom(withOverrides(DEFAULTS, { 'network.listen_host': '192.0.2.5' }, 'test'), 1).ownHost, '192.0.2.5')
  t.is(dhtOptionsFrom(withOverrides(DEFAULTS, { 'network.announce_host': '198.51.100.2' }, 'test'), 1).ownHost, '198.51.100.2')
  t.true(dhtOptionsFrom(withOverrides(DEFAULTS, { 'seeder.port': 0 }, 'test'), 1).anyPortIfTaken)
  t.false(dhtOptionsFrom(DEFAULTS, 1).anyPortIfTaken, 'a configured port is the port, or an error')
  for (const node of ['router.example', '192.0.2.1:0', '[2001:db8::1]:6881', 'a b:1']) {
    const error = t.throws(() => dhtOptionsFrom(withOverrides(DEFAULTS, { 'dht.bootstrap': [node] }, 'test'), 1))
    t.is((error as ConfigError).key, 'dht.bootstrap', node)
  }
})

test('listening on an IPv6 address only, the DHT (IPv4) stays off with one warning', async (t) => {
  const dht = new Dht({ ...dhtOptionsFrom(withOverrides(DEFAULTS, { 'network.listen_host': '::1', 'state.dir': tempDir(t) }, 'test'), 1), catalog: new Catalog() })
  const warnings: string[] = []
  dht.on('warning', (warning) => warnings.push(warning.message))
  await dht.start()
  await dht.close()
  t.is(warnings.length, 1)
  t.regex(warnings[0]!, /the DHT stays off: it speaks IPv4 only and network.listen_host is "::1"/)
  t.false(dht.snapshot().enabled)
})

test('a pile of newly published torrents is announced one start per ANNOUNCE_SPACING_MS, not in a burst', async (t) => {
  const bootstrap = await startTestNode(t, '127.0.0.3')
  const arrivals = new Map<string, number>()
  bootstrap.dht.on('announce', (_peer: unknown, infoHash: Buffer) => { if (!arrivals.has(infoHash.toString('hex'))) arrivals.set(infoHash.toString('hex'), Date.now()) })
  const catalog = new Catalog()
  for (let index = 0; index < 8; index++) catalog.add(torrent(index))
  const dht = new Dht({
    enabled: true, port: 0, anyPortIfTaken: false, host: '127.0.0.1', ownHost: '127.0.0.1', peerPort: 7777,
    bootstrap: [bootstrap.address], announceIntervalMs: 900_000, maxPeers: 100, maxLookups: 8, maxItems: 10, stateDir: tempDir(t), catalog
  })
  await dht.start()
  t.teardown(async () => { await dht.close() })
  await eventually(() => arrivals.size === 8, 30_000, 'the first announce of all 8')
  const times = [...arrivals.values()].sort((a, b) => a - b)
  // Seven spacings at least (a slow machine only stretches them).
  t.true(times.at(-1)! - times[0]! >= 7 * ANNOUNCE_SPACING_MS * 0.9, `${times.at(-1)! - times[0]!} ms for 8 announces`)
})

test('close ends while announces are under way, their lookups cut short by the closed socket', async (t) => {
  t.timeout(30_000)
  const bootstrap = await startTestNode(t, '127.0.0.3')
  const catalog = new Catalog()
  for (let index = 0; index < 8; index++) catalog.add(torrent(100 + index))
  const dht = new Dht({
    enabled: true, port: 0, anyPortIfTaken: false, host: '127.0.0.1', ownHost: '127.0.0.1', peerPort: 7777,
    bootstrap: [bootstrap.address], announceIntervalMs: 60_000, announceSpacingMs: 1, maxPeers: 100, maxLookups: 8, maxItems: 10, stateDir: tempDir(t), catalog
  })
  await dht.start()
  await eventually(() => dht.snapshot().bootstrapped, 10_000, 'the DHT to bootstrap')
  // The only node stops answering: every lookup from now on waits for replies that never come.
  await bootstrap.close()
  for (let index = 0; index < 8; index++) catalog.add(torrent(200 + index))
  await setTimeout(50)
  const closed = await Promise.race([dht.close().then(() => true), setTimeout(10_000, false)])
  t.true(closed, 'close resolved')
})
