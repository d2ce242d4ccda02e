import test from 'ava'
import { setTimeout as sleep } from 'node:timers/promises'
import { RefusalSummary, type RefusalReport } from '../../appliance/net/refusal-summary.js'

test('the first refusal is reported at once, the rest of a flood once per interval, and a quiet interval starts over', async (t) => {
  const reports: RefusalReport[] = []
  const summary = new RefusalSummary((report) => reports.push(report), 50)
  t.teardown(() => { summary.close() })
  summary.add('10.0.0.1', 'address-limit')
  t.deepEqual(reports, [{ refused: 1, address: '10.0.0.1', reason: 'address-limit' }])
  for (let index = 0; index < 1000; index++) summary.add('10.0.0.2', 'connection-limit')
  t.is(reports.length, 1, 'nothing more until the interval ends')
  await sleep(1000) // the interval, then a quiet one
  t.deepEqual(reports.slice(1), [{ refused: 1000, address: '10.0.0.2', reason: 'connection-limit' }])
  summary.add('10.0.0.3', 'address-limit')
  t.deepEqual(reports.at(-1), { refused: 1, address: '10.0.0.3', reason: 'address-limit' }, 'after a quiet interval, at once again')
})
