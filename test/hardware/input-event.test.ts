import test from 'ava'
import { EV_KEY, INPUT_EVENT_SIZE, nativeInputEventLayout, parseInputEvents } from '../../appliance/hardware/input-event.js'
import { encodeInputEvent, keyRecords } from './input-records.js'

for (const layout of ['long64', 'long32'] as const) {
  test(`parses ${layout} records: time, type, code, value`, (t) => {
    const bytes = Buffer.concat([
      encodeInputEvent({ sec: 1_700_000_123, usec: 456_789, type: EV_KEY, code: 148, value: 1 }, layout),
      encodeInputEvent({ sec: 1_700_000_125, usec: 6_000, type: EV_KEY, code: 148, value: 0 }, layout)
    ])
    t.is(bytes.length, 2 * INPUT_EVENT_SIZE[layout])
    const { events, rest } = parseInputEvents(bytes, layout)
    t.is(rest.length, 0)
    t.deepEqual(events, [
      { timeMs: 1_700_000_123_456.789, type: 1, code: 148, value: 1 },
      { timeMs: 1_700_000_125_006, type: 1, code: 148, value: 0 }
    ])
  })

  test(`keeps an incomplete ${layout} record for the next read`, (t) => {
    const bytes = keyRecords(5000, 148, 1, layout)
    const first = parseInputEvents(bytes.subarray(0, 5), layout)
    t.deepEqual(first.events, [])
    t.is(first.rest.length, 5)
    const second = parseInputEvents(Buffer.concat([first.rest, bytes.subarray(5)]), layout)
    t.is(second.events.length, 2)
    t.is(second.events[0]!.timeMs, 5000)
    t.is(second.events[1]!.type, 0)
  })
}

test('negative values (relative axes) keep their sign', (t) => {
  const { events } = parseInputEvents(encodeInputEvent({ sec: 1, usec: 0, type: 2, code: 0, value: -3 }, 'long64'), 'long64')
  t.is(events[0]!.value, -3)
})

test('the layout follows the width of a long in this process', (t) => {
  t.is(nativeInputEventLayout('arm64'), 'long64')
  t.is(nativeInputEventLayout('x64'), 'long64')
  t.is(nativeInputEventLayout('arm'), 'long32')
  t.is(nativeInputEventLayout('ia32'), 'long32')
})
