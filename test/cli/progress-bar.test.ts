import type { WriteStream } from 'node:tty'
import test from 'ava'
import { formatBytes, formatProgressLine, ProgressBar } from '../../appliance/cli/progress-bar.js'

test('formatBytes uses decimal units with one decimal above bytes', (t) => {
  t.is(formatBytes(0), '0 B')
  t.is(formatBytes(999), '999 B')
  t.is(formatBytes(1000), '1.0 kB')
  t.is(formatBytes(1_500_000), '1.5 MB')
  t.is(formatBytes(2_000_000_000_000), '2.0 TB')
  t.is(formatBytes(5e15), '5000.0 TB')
})

test('formatProgressLine shows the bar, percentage, rate and time left', (t) => {
  t.is(formatProgressLine(0, 1000, 0), `[${'.'.repeat(30)}]   0%  0 B/s  ETA --:--`)
  t.is(formatProgressLine(500_000_000, 1_000_000_000, 5), `[${'#'.repeat(15)}${'.'.repeat(15)}]  50%  100.0 MB/s  ETA 0:05`)
  t.is(formatProgressLine(1_000_000_000, 1_000_000_000, 10), `[${'#'.repeat(30)}] 100%  100.0 MB/s  ETA 0:00`)
  t.is(formatProgressLine(1_000_000, 4_000_000_000, 1), `[${'.'.repeat(30)}]   0%  1.0 MB/s  ETA 1:06:39`)
})

test('the bar redraws in place at most every 100 ms, and always at the end', (t) => {
  const writes: string[] = []
  let now = 1_000
  const stream = { write: (text: string) => writes.push(text) } as unknown as WriteStream
  const bar = new ProgressBar(stream, () => now)
  bar.update({ bytesHashed: 10, totalBytes: 100 })
  now += 50
  bar.update({ bytesHashed: 20, totalBytes: 100 })
  now += 60
  bar.update({ bytesHashed: 30, totalBytes: 100 })
  now += 1
  bar.update({ bytesHashed: 100, totalBytes: 100 })
  bar.finish()
  t.is(writes.length, 4)
  t.true(writes.slice(0, 3).every((line) => line.startsWith('\r[') && line.endsWith('\x1b[K')))
  t.regex(writes[2]!, /100%/)
  t.is(writes[3], '\r\x1b[K')
})
