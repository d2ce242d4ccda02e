import test from 'ava'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { EventLoopDelay } from '../../appliance/platform/event-loop-delay.js'
import { ServeProcess } from '../helpers/serve-process.js'
import { tempDir } from '../helpers/temp-dir.js'

/** Holds the thread, as a synchronous call would. */
function blockFor (ms: number): void {
  const until = performance.now() + ms
  while (performance.now() < until) { /* busy */ }
}

test('a blocked event loop shows in the window it happened in, and not in the next one', async (t) => {
  const delay = new EventLoopDelay()
  delay.start()
  t.teardown(async () => { await delay.close() })
  await sleep(100)
  blockFor(400)
  await sleep(100)
  const blocked = delay.sample()
  t.true(blocked.maxSeconds >= 0.3, `max ${blocked.maxSeconds} s after a 400 ms block`)
  t.true(blocked.p99Seconds > 0)
  await sleep(200)
  const after = delay.sample()
  t.true(after.maxSeconds < blocked.maxSeconds, `the next window (max ${after.maxSeconds} s) does not carry the block over`)
})

test('the probe\'s own interval is not counted as delay', async (t) => {
  const delay = new EventLoopDelay(200)
  delay.start()
  t.teardown(async () => { await delay.close() })
  await sleep(1000)
  const idle = delay.sample()
  // The histogram alone reads at least 200 ms here: the time between two probes.
  t.true(idle.maxSeconds < 0.2, `max ${idle.maxSeconds} s on an idle loop probed every 200 ms`)
})

test('an empty window reads as no delay', async (t) => {
  const delay = new EventLoopDelay()
  delay.start()
  t.teardown(async () => { await delay.close() })
  t.deepEqual(delay.sample(), { p99Seconds: 0, maxSeconds: 0 })
})

test('serve exposes the event-loop delay on /metrics as gauges', async (t) => {
  const root = tempDir(t)
  const serve = await ServeProcess.start(t, { libraries: [join(root, 'library')], stateDir: join(root, 'state') })
  await sleep(200)
  const text = await (await fetch(`http://127.0.0.1:${serve.httpPort}/metrics`)).text()
  t.regex(text, /^# TYPE evertorrent_event_loop_delay_seconds gauge$/m)
  t.regex(text, /^evertorrent_event_loop_delay_seconds\{quantile="0\.99"\} \d+(\.\d+)?(e-?\d+)?$/m)
  t.regex(text, /^# TYPE evertorrent_event_loop_delay_max_seconds gauge$/m)
  t.regex(text, /^evertorrent_event_loop_delay_max_seconds \d+(\.\d+)?(e-?\d+)?$/m)
})
