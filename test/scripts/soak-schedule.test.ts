import test from 'ava'
import { scheduleFor } from '../../scripts/soak/activities.js'

test('an hour keeps the nominal rhythm: reload every 3 min, drive every 4, slow copy every 5, 90 s between bursts', (t) => {
  const schedule = scheduleFor(3600)
  t.deepEqual([schedule.reload.period, schedule.drive.period, schedule.slowCopy.period, schedule.hostile.pause], [180, 240, 300, 90])
  t.is(schedule.drive.outSeconds, 20)
})

test('three minutes still see every activity start, at least twice for the periodic ones, before the quiet end', (t) => {
  const run = 180
  const schedule = scheduleFor(run)
  const lastStart = run - schedule.quietEnd
  for (const { first, period } of [schedule.reload, schedule.drive, schedule.slowCopy]) {
    t.true(first + period <= lastStart, `first ${first} s, period ${period} s, last start ${lastStart} s`)
  }
  t.true(schedule.hostile.first < lastStart)
})
