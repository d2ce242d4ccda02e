import test from 'ava'
import { PEX_INTERVAL_MS, PexFeed, pexKey, type PexView } from '../../appliance/seeder/pex-feed.js'
import { MAX_PEX_ADDED, MAX_PEX_DROPPED, type PexPeer } from '../../appliance/seeder/pex-message.js'

function peer (n: number, flags = 0): PexPeer {
  return { address: { ip: `10.0.${Math.floor(n / 250)}.${(n % 250) + 1}`, port: 6881 }, flags }
}

function view (...peers: PexPeer[]): PexView {
  return new Map(peers.map((p) => [pexKey(p.address), p]))
}

test('the first message goes out at once with the peers of the swarm, the peer itself left out', (t) => {
  const feed = new PexFeed()
  const [a, b, c] = [peer(1), peer(2, 0x02), peer(3)]
  const update = feed.next(0, view(a, b, c), pexKey(a.address))
  t.deepEqual(update, { added: [b, c], dropped: [] })
})

test('nothing to say, nothing sent: the first message waits until there is a peer to name', (t) => {
  const feed = new PexFeed()
  const a = peer(1)
  t.is(feed.next(0, view(a), pexKey(a.address)), undefined, 'alone in the swarm')
  t.is(feed.next(1000, view(), undefined), undefined)
  t.deepEqual(feed.next(2000, view(a, peer(2)), pexKey(a.address)), { added: [peer(2)], dropped: [] }, 'the first message, 2 s in')
})

test('after the first message, at most one a minute (BEP 11): news waits for the minute to pass', (t) => {
  const feed = new PexFeed()
  const [a, b, c] = [peer(1), peer(2), peer(3)]
  t.truthy(feed.next(5_000, view(b), undefined))
  t.is(feed.next(5_000 + PEX_INTERVAL_MS - 1, view(b, c), undefined), undefined, 'one millisecond early')
  t.deepEqual(feed.next(5_000 + PEX_INTERVAL_MS, view(b, c), undefined), { added: [c], dropped: [] })
  t.is(feed.next(5_000 + PEX_INTERVAL_MS + 1, view(b, c, a), undefined), undefined)
})

test('a peer that left is dropped once, a peer told of is never added again, a returning one is added again', (t) => {
  const feed = new PexFeed()
  const [b, c] = [peer(2), peer(3)]
  let now = 0
  t.deepEqual(feed.next(now, view(b, c), undefined), { added: [b, c], dropped: [] })
  now += PEX_INTERVAL_MS
  t.deepEqual(feed.next(now, view(c), undefined), { added: [], dropped: [b.address] })
  now += PEX_INTERVAL_MS
  t.is(feed.next(now, view(c), undefined), undefined, 'no change, no message')
  now += PEX_INTERVAL_MS
  t.deepEqual(feed.next(now, view(b, c), undefined), { added: [b], dropped: [] })
})

test('at most 50 added and 50 dropped a message; the rest follow a minute later each', (t) => {
  const feed = new PexFeed()
  const first = Array.from({ length: 120 }, (_, n) => peer(n))
  let now = 0
  const told: PexPeer[] = []
  for (const expected of [MAX_PEX_ADDED, MAX_PEX_ADDED, 20]) {
    const update = feed.next(now, view(...first), undefined)!
    t.is(update.added.length, expected)
    told.push(...update.added)
    now += PEX_INTERVAL_MS
  }
  t.is(new Set(told.map((p) => pexKey(p.address))).size, 120, 'each peer named once')
  const left = first.slice(0, 10)
  const newcomers = Array.from({ length: 70 }, (_, n) => peer(500 + n))
  const counts: Array<[number, number]> = []
  for (let i = 0; i < 3; i++) {
    const update = feed.next(now, view(...left, ...newcomers), undefined)
    counts.push([update?.added.length ?? 0, update?.dropped.length ?? 0])
    now += PEX_INTERVAL_MS
  }
  t.deepEqual(counts, [[MAX_PEX_ADDED, MAX_PEX_DROPPED], [20, MAX_PEX_DROPPED], [0, 10]], '110 left and 70 came')
})
