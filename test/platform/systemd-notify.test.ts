import { randomBytes } from 'node:crypto'
import { connect } from 'node:net'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import test from 'ava'
import { writeTree } from '../helpers/content.js'
import { ServeProcess } from '../helpers/serve-process.js'
import { tempDir } from '../helpers/temp-dir.js'
import { NotifyListener, type Datagram } from './notify-listener.js'

/** CLOCK_MONOTONIC in µs, the clock the listener stamps datagrams with. */
function monotonicUsec (): number {
  return Number(process.hrtime.bigint() / 1000n)
}

async function accepts (port: number): Promise<boolean> {
  return await new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port })
    socket.once('connect', () => { socket.destroy(); resolve(true) })
    socket.once('error', () => resolve(false))
  })
}

const isWatchdog = (datagram: Datagram): boolean => datagram.fields.WATCHDOG === '1'

test('under systemd: READY=1 once the ports listen, STATUS=, WATCHDOG=1 at half of WATCHDOG_USEC and none while the process is stopped, RELOADING=1 then READY=1 on SIGHUP, STOPPING=1 on SIGTERM', async (t) => {
  const root = tempDir(t)
  const library = join(root, 'library')
  writeTree(library, { 'one.txt': 'one', 'two.bin': 100_000 })
  const address = join(root, 'notify')
  const listener = await NotifyListener.start(t, address)
  const serve = await ServeProcess.start(t, { libraries: [library], stateDir: join(root, 'state'), env: { NOTIFY_SOCKET: address, WATCHDOG_USEC: '600000' } })
  const pid = serve.child.pid!

  await listener.waitFor((datagram) => datagram.fields.READY === '1')
  t.true(await accepts(serve.httpPort), 'the HTTP port listens')
  t.true(await accepts(serve.trackerPort), 'the tracker port listens')
  t.true(await accepts(serve.peerPort), 'the peer port listens')
  t.is(listener.with('READY').length, 1, 'one READY=1 at start-up')

  const status = await listener.waitFor((datagram) => datagram.fields.STATUS === 'seeding 2 items, 0 peers, 0 B/s up')
  t.truthy(status)

  // Cadence: 300 ms (half of 600 ms); counted over 2.4 s, generously, for a loaded machine.
  const windowStart = monotonicUsec()
  await sleep(2400)
  const pings = listener.datagrams.filter((datagram) => isWatchdog(datagram) && datagram.usec >= windowStart)
  t.true(pings.length >= 5 && pings.length <= 10, `${pings.length} WATCHDOG=1 in 2.4 s`)

  // A process that cannot run its event loop sends no pings (systemd would then restart it).
  process.kill(pid, 'SIGSTOP')
  const stoppedAt = monotonicUsec()
  await sleep(1500)
  const continuedAt = monotonicUsec()
  process.kill(pid, 'SIGCONT')
  const during = listener.datagrams.filter((datagram) => isWatchdog(datagram) && datagram.usec > stoppedAt + 50_000 && datagram.usec < continuedAt)
  t.deepEqual(during.map((datagram) => datagram.usec), [], 'no WATCHDOG=1 while stopped')
  await listener.waitFor((datagram) => isWatchdog(datagram) && datagram.usec > continuedAt, 5000)

  const beforeReload = listener.datagrams.length
  const signalledAt = monotonicUsec()
  serve.child.kill('SIGHUP')
  const reloading = await listener.waitFor((datagram) => datagram.fields.RELOADING === '1', 10_000, beforeReload)
  const monotonic = Number(reloading.fields.MONOTONIC_USEC)
  t.true(monotonic >= signalledAt && monotonic <= reloading.usec, 'MONOTONIC_USEC= is CLOCK_MONOTONIC taken after the signal')
  const reloaded = await listener.waitFor((datagram) => datagram.fields.READY === '1', 10_000, listener.datagrams.indexOf(reloading) + 1)
  t.true(reloaded.usec >= reloading.usec)
  await serve.waitFor((line) => line.msg === 'config reloaded')

  const beforeStop = listener.datagrams.length
  t.is(await serve.stop(), 0)
  await listener.waitFor((datagram) => datagram.fields.STOPPING === '1', 5000, beforeStop)
})

test('an abstract NOTIFY_SOCKET (@name) works too, and WATCHDOG_PID of another process turns the pings off', async (t) => {
  const root = tempDir(t)
  const library = join(root, 'library')
  writeTree(library, { 'one.txt': 'one' })
  const address = `@evertorrent-test-${randomBytes(6).toString('hex')}`
  const listener = await NotifyListener.start(t, address)
  const serve = await ServeProcess.start(t, { libraries: [library], stateDir: join(root, 'state'), env: { NOTIFY_SOCKET: address, WATCHDOG_USEC: '200000', WATCHDOG_PID: String(process.pid) } })
  await listener.waitFor((datagram) => datagram.fields.READY === '1')
  await serve.waitFor((line) => line.msg === 'published')
  await sleep(600)
  t.deepEqual(listener.with('WATCHDOG'), [])
  t.is(await serve.stop(), 0)
  await listener.waitFor((datagram) => datagram.fields.STOPPING === '1', 5000)
})
