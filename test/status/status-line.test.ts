import test from 'ava'
import { formatRate, statusLine } from '../../appliance/status/status-line.js'
import { SystemdNotify, watchdogIntervalMs } from '../../appliance/platform/systemd-notify.js'
import type { StatusSnapshot } from '../../appliance/status/status-model.js'

function snapshot (phase: StatusSnapshot['phase'], totals: Partial<StatusSnapshot['totals']> = {}): StatusSnapshot {
  return {
    phase,
    startedAt: 0,
    libraries: [],
    items: [],
    totals: { items: 0, seeding: 0, hashing: 0, errors: 0, bytesPublished: 0, bytesUploaded: 0, uploadRate: 0, peers: 0, ...totals },
    lastUploadAt: undefined
  } as unknown as StatusSnapshot
}

test('the STATUS= line says what a person wants from systemctl status', (t) => {
  t.is(statusLine(snapshot('running', { seeding: 12, peers: 3, uploadRate: 1_234_567 })), 'seeding 12 items, 3 peers, 1.2 MB/s up')
  t.is(statusLine(snapshot('running', { seeding: 1, hashing: 2, errors: 1, peers: 1 })), 'seeding 1 item, hashing 2, 1 error, 1 peer, 0 B/s up')
  t.is(statusLine({ ...snapshot('running', { seeding: 1 }), items: [{ state: 'paused' }, { state: 'seeding' }, { state: 'paused' }] } as unknown as StatusSnapshot), 'seeding 1 item, 2 paused, 0 peers, 0 B/s up')
  t.is(statusLine(snapshot('booting')), 'starting')
  t.is(statusLine(snapshot('reloading')), 'reloading the configuration')
  t.is(statusLine(snapshot('stopping')), 'stopping')
})

test('rates in SI units', (t) => {
  t.is(formatRate(0), '0 B/s')
  t.is(formatRate(999), '999 B/s')
  t.is(formatRate(1000), '1.0 kB/s')
  t.is(formatRate(999_960), '1.0 MB/s')
  t.is(formatRate(2.5e9), '2.5 GB/s')
})

test('the watchdog interval is half of WATCHDOG_USEC, and off when it is meant for another process or unset', (t) => {
  t.is(watchdogIntervalMs({ WATCHDOG_USEC: '30000000' }, 42), 15_000)
  t.is(watchdogIntervalMs({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '42' }, 42), 15_000)
  t.is(watchdogIntervalMs({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '7' }, 42), undefined)
  t.is(watchdogIntervalMs({}, 42), undefined)
  t.is(watchdogIntervalMs({ WATCHDOG_USEC: 'soon' }, 42), undefined)
})

test('no NOTIFY_SOCKET, no notifier; STATUS= goes out at once, then only when its text changes', async (t) => {
  t.is(SystemdNotify.fromEnvironment({}, () => {}), undefined)
  const sent: string[] = []
  const notify = new SystemdNotify({ socket: { send: (message) => { sent.push(message) }, close: async () => {} } })
  notify.status('seeding 1 item')
  notify.status('seeding 1 item')
  t.deepEqual(sent, ['STATUS=seeding 1 item'])
  notify.reloading()
  t.regex(sent.at(-1)!, /^RELOADING=1\nMONOTONIC_USEC=\d+$/)
  await notify.close()
})
