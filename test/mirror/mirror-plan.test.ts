import test from 'ava'
import { planMirror, type MirroredItem, type UpstreamItem } from '../../appliance/mirror/mirror-plan.js'

const DAY = 24 * 60 * 60 * 1000
const item = (n: number, bytes = 100): UpstreamItem => ({ infoHash: String(n).repeat(40).slice(0, 40), name: `item ${n}`, bytes })
const hashes = (items: readonly UpstreamItem[]): string[] => items.map((entry) => entry.infoHash)

test('every listed item is kept and remembered from the poll that first listed it', (t) => {
  const first = planMirror([], [item(1), item(2)], 1000, { maxBytes: 0, keepDays: 30 })
  t.deepEqual(hashes(first.keep).sort(), hashes([item(1), item(2)]))
  t.deepEqual(first.drop, [])
  const second = planMirror(first.items, [item(1), item(2), item(3)], 5000, { maxBytes: 0, keepDays: 30 })
  t.deepEqual(second.items.map((entry) => entry.firstSeenAt), [1000, 1000, 5000])
  t.deepEqual(hashes(second.keep), hashes([item(3), item(1), item(2)]), 'newest first')
})

test('an item no longer listed is kept for keep_days, then dropped and forgotten', (t) => {
  const bounds = { maxBytes: 0, keepDays: 2 }
  const start = planMirror([], [item(1), item(2)], 0, bounds)
  const gone = planMirror(start.items, [item(2)], DAY, bounds)
  const one = gone.items.find((entry) => entry.infoHash === item(1).infoHash)!
  t.is(one.goneAt, DAY)
  t.true(hashes(gone.keep).includes(item(1).infoHash))
  const later = planMirror(gone.items, [item(2)], 2 * DAY, bounds)
  t.is(later.items.find((entry) => entry.infoHash === item(1).infoHash)?.goneAt, DAY, 'the first poll without it counts')
  const expired = planMirror(later.items, [item(2)], 3 * DAY, bounds)
  t.deepEqual(expired.drop.map(({ item: entry, reason }) => [entry.infoHash, reason]), [[item(1).infoHash, 'gone-upstream']])
  t.false(expired.items.some((entry) => entry.infoHash === item(1).infoHash))
  // Listed again before it expired: it is back, with its first sighting.
  const back = planMirror(gone.items, [item(1), item(2)], DAY + 1, bounds)
  t.is(back.items.find((entry) => entry.infoHash === item(1).infoHash)?.goneAt, undefined)
})

test('over the quota the oldest go first, smaller older items still fill the room left, and one larger than the quota is never held', (t) => {
  const remembered: MirroredItem[] = [
    { ...item(1, 400), firstSeenAt: 1 },
    { ...item(2, 100), firstSeenAt: 2 },
    { ...item(3, 500), firstSeenAt: 3 }
  ]
  const plan = planMirror(remembered, [item(1, 400), item(2, 100), item(3, 500), item(4, 5000)], 10, { maxBytes: 700, keepDays: 30 })
  t.deepEqual(hashes(plan.keep), hashes([item(3), item(2)]))
  t.deepEqual(plan.drop.map(({ item: entry, reason }) => [entry.name, reason]), [['item 4', 'over-quota'], ['item 1', 'over-quota']])
  t.is(plan.items.length, 4, 'dropped for the quota, still remembered: it comes back when room is made')
})

test('an upstream list naming an item twice counts it once', (t) => {
  const plan = planMirror([], [item(1), item(1)], 0, { maxBytes: 150, keepDays: 1 })
  t.is(plan.items.length, 1)
  t.is(plan.keep.length, 1)
})
