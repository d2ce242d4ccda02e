import test from 'ava'
import { TokenBucket } from '../../appliance/seeder/token-bucket.js'

test('a rate of 0 never makes anyone wait', (t) => {
  const bucket = new TokenBucket(0, 16384, 0)
  for (let i = 0; i < 1000; i++) {
    t.is(bucket.waitMs(1 << 20, 0), 0)
    bucket.take(1 << 20, 0)
  }
})

test('starts with half a second of tokens, then refills at the rate', (t) => {
  const bucket = new TokenBucket(100_000, 16384, 0)
  t.is(bucket.waitMs(50_000, 0), 0)
  bucket.take(50_000, 0)
  t.is(bucket.waitMs(10_000, 0), 100)
  t.is(bucket.waitMs(10_000, 50), 50)
  t.is(bucket.waitMs(10_000, 100), 0)
})

test('never holds more than half a second of tokens, however long it idles', (t) => {
  const bucket = new TokenBucket(100_000, 16384, 0)
  bucket.take(50_000, 0)
  t.is(bucket.waitMs(50_000, 3_600_000), 0)
  bucket.take(50_000, 3_600_000)
  t.true(bucket.waitMs(1, 3_600_000) > 0)
})

test('a block larger than the bucket still goes out, and is paid back', (t) => {
  const bucket = new TokenBucket(1000, 16384, 0)
  t.is(bucket.waitMs(16384, 0), 0)
  bucket.take(16384, 0)
  t.is(bucket.waitMs(16384, 0), 16384)
})

test('over a long run the bytes taken match the rate (fake clock)', (t) => {
  const rate = 250_000
  const bucket = new TokenBucket(rate, 16384, 0)
  let now = 0
  let sent = 0
  while (now < 60_000) {
    const wait = bucket.waitMs(16384, now)
    if (wait > 0) {
      now += wait
      continue
    }
    bucket.take(16384, now)
    sent += 16384
  }
  const expected = rate * 60 + rate / 2
  t.true(Math.abs(sent - expected) <= 2 * 16384, `sent ${sent}, expected about ${expected}`)
})
