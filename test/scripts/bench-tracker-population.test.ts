import test from 'ava'
import {
  leftOf, peerOfAnnounce, peersOfSlice, portOf, sourceOf, swarmHashes, swarmOf, writePeerId, type Population, type Share
} from '../../scripts/bench-tracker-population.js'

const shares = (slices: number, sources: number): Share[] => Array.from({ length: slices }, (_, slice) => ({ slice, slices, sources }))

test('the slices of the generators announce every peer exactly once a pass, then start again', (t) => {
  const population: Population = { peers: 1001, swarms: 10 }
  const seen = new Map<number, number>()
  for (const share of shares(2, 16)) {
    const perPass = peersOfSlice(population, share)
    for (let n = 0; n < 2 * perPass; n++) {
      const peer = peerOfAnnounce(n, population, share)
      seen.set(peer, (seen.get(peer) ?? 0) + 1)
    }
  }
  t.is(seen.size, 1001)
  t.true([...seen.values()].every((count) => count === 2))
  t.true([...seen.keys()].every((peer) => peer >= 0 && peer < 1001))
})

test('no two of the memory measure\'s 100,000 peers share a source address and port', (t) => {
  const population: Population = { peers: 100_000, swarms: 1000 }
  const endpoints = new Set<string>()
  for (const share of shares(2, 16)) {
    for (let n = 0; n < peersOfSlice(population, share); n++) {
      const peer = peerOfAnnounce(n, population, share)
      endpoints.add(`${share.slice}/${sourceOf(peer, share)}:${portOf(peer, share)}`)
    }
  }
  t.is(endpoints.size, 100_000)
})

test('peers spread evenly over the swarms, one in ten a seed, ports in the unprivileged range', (t) => {
  const population: Population = { peers: 100_000, swarms: 1000 }
  const perSwarm = new Array<number>(1000).fill(0)
  let seeds = 0
  for (let peer = 0; peer < population.peers; peer++) {
    perSwarm[swarmOf(peer, population)]!++
    if (leftOf(peer) === 0) seeds++
    const port = portOf(peer, { slice: 0, slices: 2, sources: 16 })
    if (port < 1024 || port > 65_535) t.fail(`port ${port}`)
  }
  t.true(perSwarm.every((count) => count === 100))
  t.is(seeds, 10_000)
})

test('infohashes are 20 bytes, distinct and the same from one run to the next', (t) => {
  const hashes = swarmHashes(1002)
  t.true(hashes.every((hash) => hash.length === 20))
  t.is(new Set(hashes.map((hash) => hash.toString('hex'))).size, 1002)
  t.deepEqual(swarmHashes(3), hashes.slice(0, 3))
})

test('a peer id is 20 bytes: the client prefix and the peer\'s number', (t) => {
  t.is(writePeerId(Buffer.alloc(20), 42).toString('latin1'), '-EB0001-000000000042')
})
