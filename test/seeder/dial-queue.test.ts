import test from 'ava'
import { setTimeout as sleep } from 'node:timers/promises'
import { DialQueue } from '../../appliance/seeder/dial-queue.js'
import type { PeerAddress } from '../../appliance/net/peer-address.js'

const HASH = 'a'.repeat(40)

test('each leecher is dialled once, after the delay, in the order they announced', async (t) => {
  const dialled: string[] = []
  const dialledAt: number[] = []
  const queue = new DialQueue({ delayMs: 50, dial: (infoHash, peer) => {
    dialled.push(`${infoHash.slice(0, 1)} ${peer.ip}:${peer.port}`)
    dialledAt.push(Date.now())
  } })
  t.teardown(() => { queue.close() })
  const addedAt = Date.now()
  t.true(queue.add(HASH, { ip: '192.168.1.2', port: 6881 }))
  t.false(queue.add(HASH, { ip: '192.168.1.2', port: 6881 }), 'the same leecher announcing again waits once')
  t.true(queue.add('b'.repeat(40), { ip: '192.168.1.2', port: 6881 }), 'another torrent is another dial')
  t.true(queue.add(HASH, { ip: '::1', port: 51413 }))
  t.deepEqual(dialled, [], 'not at once')
  await until(() => dialled.length >= 3)
  t.deepEqual(dialled, ['a 192.168.1.2:6881', 'b 192.168.1.2:6881', 'a ::1:51413'])
  // However late a loaded machine runs the timer, never before the delay.
  t.true(dialledAt.every((at) => at - addedAt >= 50), `dialled after ${dialledAt.map((at) => at - addedAt).join(', ')} ms`)
  t.is(queue.size, 0)
  t.true(queue.add(HASH, { ip: '192.168.1.2', port: 6881 }), 'once dialled, a later announce queues it again')
})

test('an announce flood is bounded: beyond maxPending nothing is queued, and close drops what waits', async (t) => {
  const dialled: PeerAddress[] = []
  const queue = new DialQueue({ delayMs: 30, maxPending: 100, dial: (_infoHash, peer) => { dialled.push(peer) } })
  let accepted = 0
  for (let port = 1; port <= 10_000; port++) if (queue.add(HASH, { ip: '10.0.0.1', port })) accepted++
  t.is(accepted, 100)
  t.is(queue.size, 100)
  await until(() => dialled.length >= 100)
  t.is(dialled.length, 100)
  for (let port = 1; port <= 50; port++) queue.add(HASH, { ip: '10.0.0.2', port })
  queue.close()
  await sleep(60)
  t.is(dialled.length, 100, 'nothing dialled after close')
})

/** Resolves once `done()` holds, looking every few ms; the test's own timeout bounds the wait. */
async function until (done: () => boolean): Promise<void> {
  while (!done()) await sleep(5)
}
