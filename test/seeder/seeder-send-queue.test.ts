import { join } from 'node:path'
import test from 'ava'
import { MAX_READS_PER_PEER, SEND_BUFFER_BYTES } from '../../appliance/seeder/peer-session.js'
import { MAX_BLOCK_LENGTH } from '../../appliance/seeder/piece-request.js'
import { writeTree } from '../helpers/content.js'
import { tempDir } from '../helpers/temp-dir.js'
import { contentOf, publish } from './fixtures.js'
import { downloadWithWire, peerThatStopsReading } from './peers.js'
import { startSeeder } from './start-seeder.js'

const KiB = 1024

async function until (check: () => boolean): Promise<void> {
  while (!check()) await new Promise((resolve) => setTimeout(resolve, 5))
}

test('the bytes queued on all sockets stay within queuedBytes; every block comes back when its peer goes, and the next peer gets every byte', async (t) => {
  const source = tempDir(t)
  // More than the kernel's loopback socket buffers take, so the stuck peers' blocks pile up in the seeder.
  writeTree(source, { 'item.bin': 24 * 1024 * KiB })
  const torrent = await publish(join(source, 'item.bin'), { pieceLength: 256 * KiB })
  const limit = 512 * KiB
  const { seeder } = await startSeeder(t, [torrent], { queuedBytes: limit, maxOutstandingRequests: 2000 })
  let highest = 0
  const sampler = setInterval(() => { highest = Math.max(highest, seeder.stats().queuedBytes) }, 1)
  t.teardown(() => clearInterval(sampler))

  // Each would hold 256 KiB and more (its own limit) if the pool did not stop them first.
  const stuck = await Promise.all([1, 2, 3].map(async () => await peerThatStopsReading(seeder.port, torrent)))
  await until(() => seeder.stats().queuedBytes >= limit)
  await new Promise((resolve) => setTimeout(resolve, 200))
  t.true(highest <= limit, `${highest} bytes queued at most, limit ${limit}`)

  for (const peer of stuck) peer.destroy()
  await until(() => seeder.stats().peers === 0)
  await until(() => seeder.stats().queuedBytes === 0)
  t.is(seeder.stats().queuedBytes, 0, 'the blocks queued for the stuck peers came back when they went away')
  const content = await downloadWithWire(seeder.port, torrent, 32)
  t.true(content.equals(contentOf(torrent)), 'the next peer got the content intact')
  t.true(highest <= limit, `${highest} bytes queued at most, limit ${limit}`)
})

test('peers that never read are disconnected once their sends stall, so they cannot keep the pool from the others', async (t) => {
  const source = tempDir(t)
  writeTree(source, { 'item.bin': 24 * 1024 * KiB })
  const torrent = await publish(join(source, 'item.bin'), { pieceLength: 256 * KiB })
  const limit = 512 * KiB
  const { seeder } = await startSeeder(t, [torrent], { queuedBytes: limit, maxOutstandingRequests: 2000, stallMs: 100, stallDisconnectMs: 300 })
  const reasons: string[] = []
  seeder.on('peer-disconnected', ({ reason }) => reasons.push(reason))

  // Enough of them to take every pool buffer; they keep their connections open and read nothing.
  const stuck = await Promise.all([1, 2, 3].map(async () => await peerThatStopsReading(seeder.port, torrent)))
  t.teardown(() => { for (const peer of stuck) peer.destroy() })
  await until(() => seeder.stats().queuedBytes >= limit)

  await until(() => reasons.length === stuck.length)
  t.deepEqual(reasons, ['send-stalled', 'send-stalled', 'send-stalled'])
  await until(() => seeder.stats().queuedBytes === 0)
  const content = await downloadWithWire(seeder.port, torrent, 32)
  t.true(content.equals(contentOf(torrent)), 'a peer that reads got the content intact')
})

test('one peer that stops reading, its requests all served from the cache, holds no more than its send buffer and its reads of the pool', async (t) => {
  const source = tempDir(t)
  writeTree(source, { 'item.bin': 24 * 1024 * KiB })
  const torrent = await publish(join(source, 'item.bin'), { pieceLength: 256 * KiB })
  // A pool and a cache far larger than one peer may take, and more requests than either holds.
  const { seeder } = await startSeeder(t, [torrent], { queuedBytes: 16 * 1024 * KiB, cacheBytes: 32 * 1024 * KiB, maxOutstandingRequests: 2000 })
  // The whole item once, so every span is cached, and that peer gone.
  await downloadWithWire(seeder.port, torrent, 32)
  await until(() => seeder.stats().peers === 0)
  let highest = 0
  const sampler = setInterval(() => { highest = Math.max(highest, seeder.stats().queuedBytes) }, 1)
  t.teardown(() => clearInterval(sampler))
  const reasons: string[] = []
  seeder.on('peer-disconnected', ({ reason }) => reasons.push(reason))
  const stuck = await peerThatStopsReading(seeder.port, torrent)
  t.teardown(() => stuck.destroy())
  await until(() => seeder.stats().queuedBytes > 0 || reasons.length > 0)
  await new Promise((resolve) => setTimeout(resolve, 300))
  t.deepEqual(reasons, [], 'the peer is still connected')
  const bound = SEND_BUFFER_BYTES + (MAX_READS_PER_PEER + 1) * MAX_BLOCK_LENGTH
  t.true(highest <= bound, `${highest} bytes of the pool held at most, bound ${bound}`)
  t.true(seeder.stats().uploadedBytes > 24 * 1024 * KiB, 'blocks went out to it (into the kernel\'s socket buffer) beyond the first download')
})
