import test from 'ava'
import { announcesDue } from '../../scripts/bench-tracker-pace.js'

test('on time, the announces due since the last tick are sent, none skipped', (t) => {
  t.deepEqual(announcesDue(2, 10_000, 0, 100_000, 10), { from: 0, until: 20, skipped: 0 })
  t.deepEqual(announcesDue(4, 10_000, 20, 100_000, 10), { from: 20, until: 40, skipped: 0 })
})

test('a generator late by more than the limit skips what it missed and sends only the last 10 ms worth', (t) => {
  t.deepEqual(announcesDue(52, 10_000, 20, 100_000, 10), { from: 420, until: 520, skipped: 400 })
})

test('the total is never passed, and an early tick sends nothing', (t) => {
  t.deepEqual(announcesDue(20_000, 10_000, 99_990, 100_000, 10), { from: 99_990, until: 100_000, skipped: 0 })
  t.deepEqual(announcesDue(0.05, 10_000, 0, 100_000, 10), { from: 0, until: 0, skipped: 0 })
})
