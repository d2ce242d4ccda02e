import test from 'ava'
import { AnnounceSchedule } from '../../appliance/dht/announce-schedule.js'
import type { InfoHash } from '../../appliance/metainfo/metainfo.js'

const hashes = Array.from({ length: 1000 }, (_, index) => index.toString(16).padStart(40, '0') as InfoHash)

test('a thousand published at once are handed out a few at a time, earliest first', (t) => {
  const schedule = new AnnounceSchedule(900_000, 60_000)
  hashes.forEach((hash, index) => schedule.add(hash, index))
  const first = schedule.take(10_000, 4)
  t.deepEqual(first, hashes.slice(0, 4))
  t.deepEqual(schedule.take(10_000, 4 - schedule.inFlightCount), [])
  schedule.done(first[0]!, 10_000, true)
  t.deepEqual(schedule.take(10_000, 4 - schedule.inFlightCount), [hashes[4]])
  t.is(schedule.announcedCount, 1)
})

test('announced again after the interval; retried sooner when no node took it', (t) => {
  const schedule = new AnnounceSchedule(900_000, 60_000)
  schedule.add(hashes[0]!, 0)
  schedule.add(hashes[1]!, 0)
  schedule.take(0, 4)
  schedule.done(hashes[0]!, 1000, true)
  schedule.done(hashes[1]!, 1000, false)
  t.is(schedule.nextDueAt(), 61_000)
  t.deepEqual(schedule.take(60_999, 4), [])
  t.deepEqual(schedule.take(61_000, 4), [hashes[1]])
  t.deepEqual(schedule.take(901_000, 4), [hashes[0]])
})

test('a withdrawn infohash is never handed out again, even when its announce was in flight', (t) => {
  const schedule = new AnnounceSchedule(900_000, 60_000)
  schedule.add(hashes[0]!, 0)
  schedule.take(0, 4)
  schedule.remove(hashes[0]!)
  schedule.done(hashes[0]!, 10, true)
  t.is(schedule.announcedCount, 0)
  t.is(schedule.nextDueAt(), undefined)
  t.deepEqual(schedule.take(10_000_000, 4), [])
})
