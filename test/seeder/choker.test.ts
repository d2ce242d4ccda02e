import test from 'ava'
import { decideUnchokes, type ChokerPeer, type ChokerSettings, type OptimisticSlot } from '../../appliance/seeder/choker.js'

const SETTINGS: ChokerSettings = { slots: 4, turnMs: 30_000, optimisticMs: 30_000 }

/** A swarm driven by the choker the way the seeder drives it, on a fake clock. */
class Swarm {
  readonly peers = new Map<number, { interested: boolean, stalled: boolean, unused: boolean, unchokedAt: number | undefined, lastServedAt: number | undefined, served: number }>()
  optimistic: OptimisticSlot | undefined
  now = 0

  constructor (count: number, readonly settings = SETTINGS) {
    for (let key = 1; key <= count; key++) this.join(key)
  }

  join (key: number, interested = true): void {
    this.peers.set(key, { interested, stalled: false, unused: false, unchokedAt: undefined, lastServedAt: undefined, served: 0 })
  }

  view (): ChokerPeer[] {
    return [...this.peers].map(([key, peer]) => ({ key, interested: peer.interested, stalled: peer.stalled, unused: peer.unused, unchokedAt: peer.unchokedAt, lastServedAt: peer.lastServedAt }))
  }

  rechoke (): Set<number> {
    const decision = decideUnchokes(this.view(), this.optimistic, this.now, this.settings)
    this.optimistic = decision.optimistic
    for (const [key, peer] of this.peers) {
      if (decision.unchoked.has(key) && peer.unchokedAt === undefined) peer.unchokedAt = this.now
      if (!decision.unchoked.has(key) && peer.unchokedAt !== undefined) {
        peer.unchokedAt = undefined
        peer.lastServedAt = this.now
      }
    }
    return new Set(decision.unchoked)
  }

  /** Advances the clock by `ms`, crediting every unchoked peer with the time. */
  advance (ms: number): void {
    for (const peer of this.peers.values()) if (peer.unchokedAt !== undefined) peer.served += ms
    this.now += ms
  }
}

test('with fewer interested peers than slots, every interested peer is unchoked and no other', (t) => {
  const swarm = new Swarm(3)
  swarm.join(4, false)
  t.deepEqual([...swarm.rechoke()].sort(), [1, 2, 3])
})

test('an uninterested peer loses its slot at once', (t) => {
  const swarm = new Swarm(2)
  swarm.rechoke()
  swarm.peers.get(1)!.interested = false
  t.deepEqual([...swarm.rechoke()], [2])
})

test('never more than the slots plus one optimistic', (t) => {
  const swarm = new Swarm(50)
  for (let round = 0; round < 100; round++) {
    t.is(swarm.rechoke().size, SETTINGS.slots + 1)
    swarm.advance(10_000)
  }
})

test('a peer keeps its slot for its whole turn, however many wait', (t) => {
  const swarm = new Swarm(4)
  const first = swarm.rechoke()
  for (let key = 5; key <= 30; key++) swarm.join(key)
  swarm.advance(29_999)
  const later = swarm.rechoke()
  for (const key of first) t.true(later.has(key))
})

test('rotation is fair: 20 peers, 4 slots, 30 minutes of 10-second rounds', (t) => {
  const swarm = new Swarm(20)
  const waits: number[] = []
  const waitingSince = new Map<number, number>()
  for (let round = 0; round < 180; round++) {
    const unchoked = swarm.rechoke()
    for (const key of swarm.peers.keys()) {
      if (unchoked.has(key) && waitingSince.has(key)) {
        waits.push(swarm.now - waitingSince.get(key)!)
        waitingSince.delete(key)
      } else if (!unchoked.has(key) && !waitingSince.has(key)) {
        waitingSince.set(key, swarm.now)
      }
    }
    swarm.advance(10_000)
  }
  const served = [...swarm.peers.values()].map((peer) => peer.served)
  const total = served.reduce((sum, time) => sum + time, 0)
  t.is(total, 180 * 10_000 * (SETTINGS.slots + 1))
  const fair = total / served.length
  for (const time of served) t.true(Math.abs(time - fair) <= 30_000, `served ${time} ms, fair share ${fair} ms`)
  // 16 peers wait while 4 take 30 s turns: a round of turns is 120 s.
  t.true(Math.max(...waits) <= 150_000, `longest wait ${Math.max(...waits)} ms`)
})

test('a newcomer is served before peers that already had a turn', (t) => {
  const swarm = new Swarm(8, { slots: 4, turnMs: 30_000, optimisticMs: 30_000 })
  for (let round = 0; round < 12; round++) {
    swarm.rechoke()
    swarm.advance(10_000)
  }
  swarm.join(99)
  let rounds = 0
  while (!swarm.rechoke().has(99)) {
    swarm.advance(10_000)
    rounds++
  }
  t.true(rounds <= 3, `served after ${rounds} rounds`)
})

test('the optimistic slot goes to the longest-waiting peer, is held for its time, then moves on', (t) => {
  const swarm = new Swarm(10, { slots: 2, turnMs: 60_000, optimisticMs: 30_000 })
  swarm.rechoke()
  t.deepEqual(swarm.optimistic, { key: 3, since: 0 })
  swarm.advance(20_000)
  swarm.rechoke()
  t.deepEqual(swarm.optimistic, { key: 3, since: 0 })
  swarm.advance(10_000)
  swarm.rechoke()
  t.deepEqual(swarm.optimistic, { key: 4, since: 30_000 })
  t.is(swarm.peers.get(3)!.unchokedAt, undefined, 'its optimistic time is over and others wait')
})

test('no optimistic slot when nobody waits', (t) => {
  const swarm = new Swarm(4)
  swarm.rechoke()
  t.is(swarm.optimistic, undefined)
})

test('a stalled peer loses its slot at once, the next in line gets it, and it gets none until it reads again', (t) => {
  const swarm = new Swarm(6, { slots: 2, turnMs: 30_000, optimisticMs: 30_000 })
  t.deepEqual([...swarm.rechoke()].sort(), [1, 2, 3])
  swarm.advance(1_000)
  swarm.peers.get(1)!.stalled = true
  swarm.peers.get(3)!.stalled = true
  const next = swarm.rechoke()
  t.false(next.has(1), 'a regular slot lost')
  t.false(next.has(3), 'the optimistic slot lost')
  t.deepEqual([...next].sort(), [2, 4, 5])
  for (let round = 0; round < 20; round++) {
    swarm.advance(10_000)
    const unchoked = swarm.rechoke()
    t.false(unchoked.has(1) || unchoked.has(3), 'no slot while it does not read')
    t.is(unchoked.size, 3, 'the slots are all given to the others')
  }
  swarm.peers.get(1)!.stalled = false
  let rounds = 0
  while (!swarm.rechoke().has(1)) {
    swarm.advance(10_000)
    rounds++
  }
  t.true(rounds <= 6, `back in a slot ${rounds} rounds after it read again`)
})

test('a peer that asks for nothing in its slot ends its turn early and goes to the back of the line; alone, it keeps it', (t) => {
  const swarm = new Swarm(3, { slots: 1, turnMs: 30_000, optimisticMs: 30_000 })
  t.deepEqual([...swarm.rechoke()].sort(), [1, 2])
  swarm.advance(5_000)
  swarm.peers.get(1)!.unused = true
  swarm.peers.get(2)!.unused = true
  const next = swarm.rechoke()
  t.true(next.has(3), 'the peer that waited gets a slot')
  t.is(next.size, 2)
  t.is([1, 2].filter((key) => next.has(key)).length, 1, 'one of the two that left their slots unused is choked')

  const alone = new Swarm(1, { slots: 1, turnMs: 30_000, optimisticMs: 30_000 })
  alone.rechoke()
  alone.advance(5_000)
  alone.peers.get(1)!.unused = true
  t.deepEqual([...alone.rechoke()], [1], 'nobody else wants the slot')
})
