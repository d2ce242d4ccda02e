import assert from 'node:assert/strict'
import test from 'ava'
import fc from 'fast-check'
import { readCompactPeer, writeCompactPeer } from '../../appliance/net/compact-peers.js'
import { MAX_BYTES_PER_PEER } from '../../appliance/tracker/peer-slots.js'
import { NO_SLOT, SwarmPeers } from '../../appliance/tracker/swarm-peers.js'
import { propertyOptions } from '../properties/properties.js'

const PEER_ID = Buffer.alloc(20, 0x2d)

/** The compact key of peer `who` of `family` (10.0.x.y or 2001:db8::x:y, port 1000 + who). */
function keyOf (family: 4 | 6, who: number): Buffer {
  const key = Buffer.alloc(18)
  const ip = family === 4 ? `10.0.${who >> 8}.${who & 255}` : `2001:db8::${(who >> 8).toString(16)}:${(who & 255).toString(16)}`
  assert.equal(writeCompactPeer(ip, 1000 + who, key, 0), family)
  return key
}

function announce (swarm: SwarmPeers, family: 4 | 6, who: number, options: { seed?: boolean, event?: 'started' | 'stopped' | 'completed' | 'update', at?: number } = {}): number {
  return swarm.announce(family, keyOf(family, who), 0, PEER_ID, 0, options.event ?? 'update', options.seed ?? false, options.at ?? 0)
}

function pickAll (swarm: SwarmPeers, family: 4 | 6, skip: number, max: number, random: () => number = Math.random): number[] {
  const into = new Int32Array(max)
  return [...into.subarray(0, swarm.slotsOf(family).pick(skip, random, into, max))]
}

test('compact addresses: IPv4 in 6 bytes, IPv6 in 18, anything else refused; read back as written', (t) => {
  const out = Buffer.alloc(18)
  t.is(writeCompactPeer('192.168.1.20', 6881, out, 0), 4)
  t.is(out.subarray(0, 6).toString('hex'), 'c0a801141ae1')
  t.deepEqual(readCompactPeer(out, 0, 4), { ip: '192.168.1.20', port: 6881 })
  t.is(writeCompactPeer('2001:db8::ffff:1.2.3.4', 65535, out, 0), 6)
  t.is(out.toString('hex'), '20010db8000000000000ffff01020304ffff')
  t.deepEqual(readCompactPeer(out, 0, 6), { ip: '2001:db8::ffff:102:304', port: 65535 })
  t.deepEqual(readCompactPeer(Buffer.from('00000000000000000000000000000001' + '0050', 'hex'), 0, 6), { ip: '::1', port: 80 })
  for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', '1..2.3', 'a.b.c.d', '1.2.3.4 ', 'example.org', ':::']) {
    t.is(writeCompactPeer(bad, 1, out, 0), 0, bad)
  }
})

test('a peer is added once, updated in place, counted as seed or leecher, and removed by stopped', (t) => {
  const swarm = new SwarmPeers({ maxPeers: 100, hashSeed: 1 })
  const slot = announce(swarm, 4, 1, { event: 'started' })
  t.is(announce(swarm, 4, 1, { seed: true }), slot, 'the same address and port is the same peer')
  announce(swarm, 6, 1)
  t.like(swarm, { count: 2, seeders: 1, leechers: 1 })
  announce(swarm, 4, 1, { event: 'completed', seed: true })
  t.is(swarm.completed, 1)
  t.is(announce(swarm, 4, 1, { event: 'stopped' }), NO_SLOT)
  t.like(swarm, { count: 1, seeders: 0, leechers: 1 })
  t.is(swarm.v4.find(keyOf(4, 1), 0), NO_SLOT)
  t.is(announce(swarm, 4, 2, { event: 'stopped' }), NO_SLOT, 'a stranger\'s goodbye changes nothing')
  t.is(swarm.count, 1)
})

test('beyond its cap a swarm drops the peer announced least recently, whatever its family', (t) => {
  const swarm = new SwarmPeers({ maxPeers: 10, hashSeed: 2 })
  for (let who = 0; who < 10; who++) announce(swarm, who < 5 ? 4 : 6, who, { at: who })
  announce(swarm, 4, 0, { at: 10 }) // peer 0 is the most recent now; peer 1 the least
  announce(swarm, 6, 100, { at: 11 })
  t.is(swarm.count, 10)
  t.is(swarm.v4.find(keyOf(4, 1), 0), NO_SLOT)
  t.not(swarm.v4.find(keyOf(4, 0), 0), NO_SLOT)
  for (let who = 6; who < 10; who++) announce(swarm, 6, who, { at: 12 })
  announce(swarm, 6, 101, { at: 13 })
  t.is(swarm.v4.find(keyOf(4, 2), 0), NO_SLOT, 'the IPv4 peer 2, now the least recent, went')
})

test('peers expire oldest first, a bounded number per call, and the arrays are released when empty', (t) => {
  const swarm = new SwarmPeers({ maxPeers: 1000, hashSeed: 3 })
  for (let who = 0; who < 100; who++) announce(swarm, who % 2 === 0 ? 4 : 6, who, { at: who })
  t.is(swarm.expire(50, 10), 10)
  t.is(swarm.count, 90)
  t.is(swarm.expire(50), 40)
  t.is(swarm.expire(50), 0)
  t.is(swarm.v4.oldestSeen(), 50)
  t.is(swarm.expire(1000), 50)
  t.is(swarm.count, 0)
  t.is(swarm.v4.oldestSeen(), Infinity)
  t.is(announce(swarm, 4, 7, { at: 2000 }), 0, 'an emptied swarm takes peers again')
})

test('random picks are distinct held slots, never the one skipped, and reach every peer', (t) => {
  const swarm = new SwarmPeers({ maxPeers: 1000, hashSeed: 4 })
  for (let who = 0; who < 97; who++) announce(swarm, 4, who)
  const seen = new Set<number>()
  for (let round = 0; round < 200; round++) {
    const picked = pickAll(swarm, 4, 5, 10)
    t.is(picked.length, 10)
    t.is(new Set(picked).size, 10, 'distinct')
    t.false(picked.includes(5))
    t.true(picked.every((slot) => slot >= 0 && slot < 97))
    for (const slot of picked) seen.add(slot)
  }
  t.is(seen.size, 96, 'every peer but the skipped one was handed out at some point')
  t.deepEqual(pickAll(swarm, 4, NO_SLOT, 200).sort((a, b) => a - b), Array.from({ length: 97 }, (_, slot) => slot), 'numwant above the count hands out every peer once')
  t.deepEqual(pickAll(swarm, 6, NO_SLOT, 10), [], 'no IPv6 peer')
  const one = new SwarmPeers({ maxPeers: 10, hashSeed: 4 })
  const only = announce(one, 4, 1)
  t.deepEqual(pickAll(one, 4, only, 10), [], 'alone in its swarm, a peer gets nobody')
})

test('one swarm holds 60,000 peers within its memory bound, each found again', (t) => {
  const swarm = new SwarmPeers({ maxPeers: 60_000, hashSeed: 5 })
  const before = process.memoryUsage().arrayBuffers
  for (let who = 0; who < 60_000; who++) announce(swarm, 4, who, { seed: who % 10 === 0, at: who })
  const grown = process.memoryUsage().arrayBuffers - before
  t.like(swarm, { count: 60_000, seeders: 6000 })
  t.true(grown <= 60_000 * MAX_BYTES_PER_PEER, `${grown} bytes of arrays`)
  for (let who = 0; who < 60_000; who += 997) t.not(swarm.v4.find(keyOf(4, who), 0), NO_SLOT)
  announce(swarm, 4, 60_000, { at: 60_000 })
  t.is(swarm.count, 60_000, 'the cap holds')
  t.is(swarm.v4.find(keyOf(4, 0), 0), NO_SLOT, 'the first peer made room')
})

type Op =
  | { readonly kind: 'announce', readonly family: 4 | 6, readonly who: number, readonly seed: boolean, readonly event: 'started' | 'stopped' | 'completed' | 'update' }
  | { readonly kind: 'expire', readonly age: number, readonly max: number }

const ops: fc.Arbitrary<Op[]> = fc.array(fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('announce' as const), family: fc.constantFrom(4 as const, 6 as const), who: fc.nat(24), seed: fc.boolean(), event: fc.constantFrom('started' as const, 'stopped' as const, 'completed' as const, 'update' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('expire' as const), age: fc.nat(40), max: fc.integer({ min: 1, max: 30 }) }) }
), { maxLength: 300 })

test('the store agrees with a plain map of peers under any sequence of announces, goodbyes and expiry', (t) => {
  fc.assert(fc.property(ops, fc.integer({ min: 1, max: 20 }), (sequence, cap) => {
    const swarm = new SwarmPeers({ maxPeers: cap, hashSeed: 6 })
    /** `family/who` → seed flag and last announce, least recently announced first. */
    const model = new Map<string, { seed: boolean, at: number }>()
    let now = 0
    let completed = 0
    for (const op of sequence) {
      now += 1 // one announce a second: no two share a time, so "least recent" is the oldest time
      if (op.kind === 'expire') {
        const before = now - op.age
        const expected = [...model].filter(([, peer]) => peer.at < before).slice(0, op.max)
        assert.equal(swarm.expire(before, op.max), expected.length)
        for (const [key] of expected) model.delete(key)
        continue
      }
      const key = `${op.family}/${op.who}`
      if (op.event === 'completed') completed += 1
      const slot = announce(swarm, op.family, op.who, { seed: op.seed, event: op.event, at: now })
      model.delete(key)
      if (op.event === 'stopped') {
        assert.equal(slot, NO_SLOT)
        continue
      }
      if (model.size >= cap) model.delete(model.keys().next().value!)
      model.set(key, { seed: op.seed, at: now })
    }
    assert.equal(swarm.count, model.size)
    assert.equal(swarm.seeders, [...model.values()].filter((peer) => peer.seed).length)
    assert.equal(swarm.completed, completed)
    for (const family of [4, 6] as const) {
      for (let who = 0; who <= 24; who++) {
        const slot = swarm.slotsOf(family).find(keyOf(family, who), 0)
        const peer = model.get(`${family}/${who}`)
        assert.equal(slot !== NO_SLOT, peer !== undefined, `${family}/${who} held`)
        if (peer !== undefined) assert.equal(swarm.slotsOf(family).isSeed(slot), peer.seed)
      }
      const held = swarm.slotsOf(family).count
      assert.deepEqual(pickAll(swarm, family, NO_SLOT, 50).sort((a, b) => a - b), Array.from({ length: held }, (_, slot) => slot))
    }
  }), propertyOptions(300))
  t.pass()
})

test('colliding hashes still find every peer (a stranger choosing addresses only makes probes longer)', (t) => {
  // Every IPv4 peer of one /24 and many ports: the index probes, finds and removes them all.
  const swarm = new SwarmPeers({ maxPeers: 5000, hashSeed: 0 })
  for (let who = 0; who < 4096; who++) announce(swarm, 4, who)
  for (let who = 0; who < 4096; who += 2) announce(swarm, 4, who, { event: 'stopped' })
  t.is(swarm.count, 2048)
  for (let who = 0; who < 4096; who++) t.is(swarm.v4.find(keyOf(4, who), 0) === NO_SLOT, who % 2 === 0)
})
