import test from 'ava'
import { chooseReplaced, ReplacedHosts, type ReplacementCandidate } from '../../appliance/seeder/replacement.js'

const AFTER = 5_000

function handshaking (key: number, connectedAt: number): ReplacementCandidate {
  return { key, connectedAt, handshaken: false, idleSince: undefined }
}

function peer (key: number, idleSince: number | undefined): ReplacementCandidate {
  return { key, connectedAt: 0, handshaken: true, idleSince }
}

test('nobody is replaced while every peer downloads or waits its turn', (t) => {
  t.is(chooseReplaced([peer(1, undefined), peer(2, undefined)], 100_000, AFTER), undefined)
  t.is(chooseReplaced([], 100_000, AFTER), undefined)
})

test('the connection handshaking the longest goes first, before any idle peer', (t) => {
  const candidates = [peer(1, 0), handshaking(7, 93_000), handshaking(5, 90_000), handshaking(9, 99_999)]
  t.is(chooseReplaced(candidates, 100_000, AFTER), 5)
  t.is(chooseReplaced([handshaking(9, 99_999), peer(2, undefined)], 100_000, AFTER), 9)
})

test('then the peer idle the longest, once it has been idle long enough', (t) => {
  t.is(chooseReplaced([peer(1, 80_000), peer(2, 60_000), peer(3, undefined), peer(4, 70_000)], 100_000, AFTER), 2)
  t.is(chooseReplaced([peer(1, 96_000), peer(2, undefined)], 100_000, AFTER), undefined)
  t.is(chooseReplaced([peer(4, 60_000), peer(3, 60_000)], 100_000, AFTER), 3, 'the older connection on a tie')
})

/**
 * A full torrent driven as the seeder drives it: newcomers replace whom the rule picks and then
 * behave as they are (a downloader asks at once, an idle socket never does).
 */
test('a stream of idle newcomers never replaces a downloader, and two newcomers never replace each other within their time', (t) => {
  const slots = 50
  let now = 0
  let nextKey = 1
  const peers = new Map<number, { joinedAt: number, downloader: boolean }>()
  // The torrent is full of idle sockets that have been there a minute.
  for (let i = 0; i < slots; i++) peers.set(nextKey++, { joinedAt: now - 60_000, downloader: false })
  const view = (): ReplacementCandidate[] => [...peers].map(([key, p]) => peer(key, p.downloader ? undefined : p.joinedAt))
  const arrive = (downloader: boolean): boolean => {
    if (peers.size >= slots) {
      const replaced = chooseReplaced(view(), now, AFTER)
      if (replaced === undefined) return false
      const victim = peers.get(replaced)!
      t.false(victim.downloader, 'a downloader is never replaced')
      t.true(now - victim.joinedAt >= AFTER, 'a newcomer keeps its place for its time')
      peers.delete(replaced)
    }
    peers.set(nextKey++, { joinedAt: now, downloader })
    return true
  }
  // Idle sockets arrive every 200 ms for ten minutes (half the rate at which 50 places free up, one
  // each 5 s: faster, they would take every place as it frees); a downloader every 30 s.
  let downloaders = 0
  for (let step = 0; step < 3000; step++) {
    now += 200
    arrive(false)
    if (step % 150 === 0 && arrive(true)) downloaders++
  }
  t.is(downloaders, 20, 'every downloader got in')
  t.is([...peers.values()].filter((p) => p.downloader).length, 20, 'and is still there')
})

test('a host that lost a connection to a newcomer may not replace anyone for a while; IPv6 by its /64', (t) => {
  const hosts = new ReplacedHosts(AFTER, 100)
  hosts.record('192.0.2.7', 1_000)
  hosts.record('2001:db8:1:2::1', 2_000)
  t.true(hosts.barred('::ffff:192.0.2.7', 5_999))
  t.false(hosts.barred('192.0.2.8', 5_999))
  t.true(hosts.barred('2001:db8:1:2:ffff::9', 5_999))
  t.false(hosts.barred('192.0.2.7', 6_000))
  t.true(hosts.barred('2001:db8:1:2::1', 6_000))
  t.false(hosts.barred('2001:db8:1:2::1', 7_000))
  t.is(hosts.size, 0)
})

test('the hosts remembered stay within their capacity, the oldest forgotten first', (t) => {
  const hosts = new ReplacedHosts(AFTER, 3)
  for (let i = 1; i <= 5; i++) hosts.record(`192.0.2.${i}`, i)
  t.is(hosts.size, 3)
  t.false(hosts.barred('192.0.2.2', 10))
  t.true(hosts.barred('192.0.2.3', 10))
})

test('connections opened again as soon as they are replaced do not push out the next, so a newcomer still finds a place', (t) => {
  // 200 places, all handshaking connections of 25 hosts that connect again at once when closed.
  let now = 0
  let nextKey = 1
  const open = new Map<number, { host: string, connectedAt: number, real: boolean }>()
  for (let i = 0; i < 200; i++) open.set(nextKey++, { host: `10.0.0.${i % 25}`, connectedAt: now, real: false })
  const replaced = new ReplacedHosts(AFTER, 200)
  const arrive = (host: string, real: boolean): boolean => {
    now += 1
    if (replaced.barred(host, now)) return false
    const candidates = [...open].map(([key, c]) => c.real ? peer(key, undefined) : handshaking(key, c.connectedAt))
    const key = chooseReplaced(candidates, now, AFTER)
    if (key === undefined) return false
    const victim = open.get(key)!
    open.delete(key)
    replaced.record(victim.host, now)
    open.set(nextKey++, { host, connectedAt: now, real })
    // Without the bar, this would replace the next, and so on for ever.
    t.false(arrive(victim.host, false), 'the replaced host comes straight back, and may not replace anyone')
    return true
  }
  // A real client tries twice in a row: an encrypted attempt (libtorrent's first), then a plain one.
  t.true(arrive('192.0.2.1', false), 'the encrypted attempt, which never handshakes, takes a place')
  t.true(arrive('192.0.2.1', true), 'so does the plain one right after it')
  t.is([...open.values()].filter((c) => c.real).length, 1)
  t.is(open.size, 200)
})
