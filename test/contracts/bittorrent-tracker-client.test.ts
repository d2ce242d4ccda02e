import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import test, { type ExecutionContext } from 'ava'
import bencode from 'bencode'
import type { InfoHash } from '../../appliance/metainfo/metainfo.js'
import type { PeerAddress } from '../../appliance/net/peer-address.js'
import { TrackerAnnouncer } from '../../appliance/seeder/tracker-announcer.js'
import { compactPeers } from '../../appliance/net/compact-peers.js'
import { eventually } from '../hardware/eventually.js'
import { fakePublished } from '../tracker/fixture.js'

// The behaviour of bittorrent-tracker's client that appliance/seeder/tracker-announcer.ts relies on,
// each test named after it, driven through TrackerAnnouncer: an upgrade that changes one fails here.

const SWARM: readonly PeerAddress[] = [{ ip: '10.1.2.3', port: 51413 }, { ip: '2001:db8::7', port: 6882 }]

/** A foreign HTTP tracker on 127.0.0.1 that hands out `SWARM` and records every announce's query. */
async function foreignTracker (t: ExecutionContext): Promise<{ url: string, queries: URLSearchParams[] }> {
  const queries: URLSearchParams[] = []
  const http = createServer((req, res) => {
    queries.push(new URL(req.url ?? '/', 'http://tracker').searchParams)
    res.end(bencode.encode({ interval: 600, complete: 1, incomplete: 0, peers: compactPeers(SWARM, 4), peers6: compactPeers(SWARM, 6) }))
  })
  http.listen(0, '127.0.0.1')
  await once(http, 'listening')
  t.teardown(async () => {
    http.closeAllConnections()
    await new Promise((resolve) => http.close(resolve))
  })
  return { url: `http://127.0.0.1:${(http.address() as AddressInfo).port}/announce`, queries }
}

function announcer (found: Array<[InfoHash, PeerAddress]>, warnings: string[]): TrackerAnnouncer {
  return new TrackerAnnouncer({
    peerId: randomBytes(20),
    port: 6881,
    isOwnTracker: () => false,
    uploaded: () => 12345,
    onPeer: (infoHash, peer) => { found.push([infoHash, peer]) },
    onWarning: (_infoHash, message) => { warnings.push(message) }
  })
}

test('peer events: a tracker\'s IPv4 and IPv6 peers come as `ip:port` and `[ip]:port`, which parsePeerAddress reads', async (t) => {
  const tracker = await foreignTracker(t)
  const found: Array<[InfoHash, PeerAddress]> = []
  const warnings: string[] = []
  const seeds = announcer(found, warnings)
  t.teardown(async () => { await seeds.close() })
  const { metainfo } = fakePublished('peers.bin', [tracker.url])
  seeds.add(metainfo)
  await eventually(t, () => found.length, SWARM.length, 'every peer was reported')
  t.deepEqual(found, SWARM.map((peer) => [metainfo.infoHash, peer]))
  t.deepEqual(warnings, [])
})

test('getAnnounceOpts: every announce says left=0 and the bytes uploaded; stop announces event=stopped, and destroy calls back', async (t) => {
  const tracker = await foreignTracker(t)
  const seeds = announcer([], [])
  const first = fakePublished('first.bin', [tracker.url]).metainfo
  const second = fakePublished('second.bin', [tracker.url]).metainfo
  seeds.add(first)
  seeds.add(second)
  await eventually(t, () => tracker.queries.length, 2, 'both torrents announced')
  for (const query of tracker.queries) t.like(Object.fromEntries(query), { event: 'started', left: '0', uploaded: '12345', port: '6881' })
  seeds.remove(first.infoHash)
  await eventually(t, () => tracker.queries.filter((query) => query.get('event') === 'stopped').length, 1, 'the removed torrent announced stopped')
  // close() waits for each client's destroy callback: it resolves only if the client calls back.
  await seeds.close()
  t.is(tracker.queries.filter((query) => query.get('event') === 'stopped').length, 2, 'and the other on close')
})
