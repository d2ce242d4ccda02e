import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import test, { type ExecutionContext } from 'ava'
import type { PublishedTorrent } from '../../appliance/catalog/catalog.js'
import { TokenBucket } from '../../appliance/seeder/token-bucket.js'
import { writeTree } from '../helpers/content.js'
import { DEFAULTS } from '../helpers/defaults.js'
import { tempDir } from '../helpers/temp-dir.js'
import { publish } from '../seeder/fixtures.js'
import { MESSAGE, RawPeer } from '../seeder/peers.js'
import { startSeeder } from '../seeder/start-seeder.js'
import { startTracker } from '../tracker/fixture.js'
import { httpAnnounce } from '../tracker/tracker-client.js'

// The engines' `apply` as a config reload calls it, and TokenBucket.setRate; every live key is
// exercised through the service in live-keys.test.ts.

async function item (t: ExecutionContext, name: string): Promise<PublishedTorrent> {
  const source = tempDir(t)
  writeTree(source, { [`${name}/data.bin`]: 200_000 })
  return await publish(join(source, name), { pieceLength: 32 * 1024 })
}

async function joined (port: number, torrent: PublishedTorrent): Promise<RawPeer> {
  const peer = await RawPeer.connect(port)
  peer.sendHandshake(torrent.metainfo.infoHash)
  await peer.waitFor((message) => message.id === MESSAGE.bitfield)
  return peer
}

test('seeder.apply: more upload slots unchoke waiting peers; a lower connection limit refuses new peers and keeps the connected ones', async (t) => {
  const torrent = await item(t, 'limits')
  const { seeder } = await startSeeder(t, [torrent], { uploadSlots: 1, maxConnections: 10 })
  const peers = await Promise.all([0, 1, 2].map(async () => await joined(seeder.port, torrent)))
  t.teardown(() => { for (const peer of peers) peer.destroy() })
  for (const peer of peers) peer.sendMessage(MESSAGE.interested)
  await Promise.any(peers.map(async (peer) => await peer.waitFor((message) => message.id === MESSAGE.unchoke)))
  await new Promise((resolve) => setTimeout(resolve, 200))
  t.is(seeder.stats().unchoked, 2, 'one slot and the optimistic one')

  seeder.apply({ ...DEFAULTS, 'seeder.upload_slots': 3, 'seeder.max_connections': 3 })
  await Promise.all(peers.map(async (peer) => await peer.waitFor((message) => message.id === MESSAGE.unchoke)))
  t.is(seeder.stats().unchoked, 3)

  const refused = await RawPeer.connect(seeder.port)
  t.true(await refused.closedWithin(), 'a fourth connection is over the new limit')
  t.true(peers.every((peer) => !peer.isClosed), 'the connected peers stay')
})

test('TokenBucket.setRate: unlimited to limited and back, earned tokens capped at the new capacity', (t) => {
  const bucket = new TokenBucket(0, 16384, 0)
  t.is(bucket.waitMs(1_000_000, 0), 0)
  bucket.setRate(32768, 0)
  t.is(bucket.bytesPerSecond, 32768)
  bucket.take(16384, 0)
  t.is(bucket.waitMs(16384, 0), 500, 'half a second of 32 KiB/s refills 16 KiB')
  bucket.setRate(65536, 0)
  t.is(bucket.waitMs(16384, 0), 250)
  bucket.setRate(0, 0)
  t.is(bucket.waitMs(1_000_000, 0), 0)
})

test('tracker.apply: open tracks unknown torrents; back to published-only refuses them and drops their swarms, published ones stay', async (t) => {
  const { tracker, infoHash, httpPort } = await startTracker(t, '127.0.0.1')
  const unknown = randomBytes(20)
  t.truthy((await httpAnnounce('127.0.0.1', httpPort, { infoHash: unknown, port: 7001 })).failure)

  tracker.apply({ ...DEFAULTS, 'tracker.mode': 'open' })
  t.is((await httpAnnounce('127.0.0.1', httpPort, { infoHash: unknown, port: 7001 })).failure, undefined)
  await httpAnnounce('127.0.0.1', httpPort, { infoHash, port: 7002 })
  t.is(tracker.stats(unknown.toString('hex'))?.leechers, 1)

  tracker.apply(DEFAULTS)
  t.is(tracker.stats(unknown.toString('hex')), undefined, 'the unpublished swarm is gone')
  t.truthy((await httpAnnounce('127.0.0.1', httpPort, { infoHash: unknown, port: 7001 })).failure)
  t.is(tracker.stats(infoHash.toString('hex'))?.leechers, 1, 'the published swarm keeps its peer')
})
