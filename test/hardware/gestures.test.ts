import test from 'ava'
import { gestureFor, GestureRecognizer, nextStageAfter } from '../../appliance/hardware/gestures.js'

const thresholds = { longMs: 2000, veryLongMs: 8000 }

test('press durations map to short, long (≥ 2 s) and very long (≥ 8 s)', (t) => {
  t.is(gestureFor(0, thresholds), 'short')
  t.is(gestureFor(1999, thresholds), 'short')
  t.is(gestureFor(2000, thresholds), 'long')
  t.is(gestureFor(7999, thresholds), 'long')
  t.is(gestureFor(8000, thresholds), 'very-long')
  t.is(gestureFor(60_000, thresholds), 'very-long')
})

test('thresholds are configurable', (t) => {
  t.is(gestureFor(600, { longMs: 500, veryLongMs: 3000 }), 'long')
  t.is(gestureFor(3000, { longMs: 500, veryLongMs: 3000 }), 'very-long')
})

test('the held button reaches its next stage at each threshold', (t) => {
  t.is(nextStageAfter('short', thresholds), 2000)
  t.is(nextStageAfter('long', thresholds), 8000)
  t.is(nextStageAfter('very-long', thresholds), undefined)
})

test('the recognizer measures with the source timestamps', (t) => {
  const recognizer = new GestureRecognizer(thresholds)
  t.true(recognizer.press(10_000))
  t.true(recognizer.pressed)
  t.is(recognizer.release(12_500), 'long')
  t.false(recognizer.pressed)
  t.true(recognizer.press(20_000))
  t.is(recognizer.release(20_080), 'short')
})

test('what the LED showed when let go wins over a slightly shorter timestamp difference', (t) => {
  const recognizer = new GestureRecognizer(thresholds)
  recognizer.press(0)
  t.is(recognizer.release(1998, 'long'), 'long')
  recognizer.press(0)
  t.is(recognizer.release(9000, 'long'), 'very-long')
})

test('a second press without release, or a release without press, is ignored', (t) => {
  const recognizer = new GestureRecognizer(thresholds)
  t.is(recognizer.release(5), undefined)
  t.true(recognizer.press(100))
  t.false(recognizer.press(3000))
  t.is(recognizer.release(3100), 'long', 'measured from the first press')
  recognizer.press(0)
  recognizer.reset()
  t.is(recognizer.release(9000), undefined)
})
