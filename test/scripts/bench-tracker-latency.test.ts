import test from 'ava'
import { bucketOf, LatencyHistogram } from '../../scripts/bench-tracker-latency.js'

test('buckets are 10 µs wide below 1 ms and keep three significant digits above', (t) => {
  t.is(bucketOf(0), 0)
  t.is(bucketOf(999), 990)
  t.is(bucketOf(1234), 1230)
  t.is(bucketOf(12_345), 12_300)
  t.is(bucketOf(745_678), 745_000)
  t.is(bucketOf(-5), 0)
})

test('percentiles count every recorded latency, and merging adds the counts', (t) => {
  const a = new LatencyHistogram()
  for (let i = 0; i < 98; i++) a.record(500)
  const b = new LatencyHistogram()
  b.record(20_000)
  b.record(300_000)
  a.merge(LatencyHistogram.fromJSON(JSON.parse(JSON.stringify(b.toJSON())) as Record<string, number>))
  t.is(a.count, 100)
  t.is(a.percentile(50), 500)
  t.is(a.percentile(98), 500)
  t.is(a.percentile(99), 20_000)
  t.is(a.percentile(100), 300_000)
  t.is(a.max, 300_000)
  t.true(Number.isNaN(new LatencyHistogram().percentile(99)))
})

test('the coordinated-omission correction adds what wrk adds: one answer every expected interval while waiting', (t) => {
  const histogram = new LatencyHistogram()
  for (let i = 0; i < 1000; i++) histogram.record(1000)
  histogram.record(50_000)
  // Expected 5 ms: a 50 ms wait stands for the requests at 45, 40, … 10 ms too (8 of them; 5 ms is not above expected).
  const corrected = histogram.correctedForOmission(5000)
  t.is(corrected.count, 1001 + 8)
  t.is(corrected.max, 50_000)
  t.is(histogram.count, 1001, 'the histogram corrected is left as it was')
  // Answers faster than twice the interval stand for no missed request.
  t.is(histogram.correctedForOmission(600).count, 1001 + 82)
})
