import test from 'ava'
import { LIVE_KEYS, liveReconfigurer, planReload, reloadConfig, type LiveTarget } from '../../appliance/config/reload.js'
import type { Logger, LogFields, LogLevel } from '../../appliance/platform/logger.js'
import { ConfigError, defaultSettings, withOverrides, type Settings, type SettingsEnvironment } from '../../appliance/config/settings.js'

const env: SettingsEnvironment = { home: '/home/pi', hostname: 'box', stateHome: '/home/pi/.local/state' }
const base = defaultSettings(env)
const change = (values: Record<string, unknown>, from: Settings = base): Settings => withOverrides(from, values, 'test')

/** An engine that records the settings it was given, and the tracker mode among them. */
function recordingTarget (): LiveTarget & { given: Settings[], calls: string[] } {
  const given: Settings[] = []
  const calls: string[] = []
  return { given, calls, apply: (settings) => { given.push(settings); calls.push(`mode ${settings['tracker.mode']}`) } }
}

function recordingLogger (): Logger & { lines: Array<{ level: LogLevel, msg: string, fields: LogFields }> } {
  const lines: Array<{ level: LogLevel, msg: string, fields: LogFields }> = []
  return { lines, log: (level, msg, fields = {}) => { lines.push({ level, msg, fields }) } }
}

test('the live keys are those the settings table marks live', (t) => {
  t.deepEqual([...LIVE_KEYS], [
    'library.folders', 'library.rescan_interval', 'library.settle_seconds', 'network.public_host',
    'http.max_connections', 'http.max_connections_per_address', 'http.idle_seconds', 'http.headers_seconds', 'http.max_event_streams', 'http.event_streams_per_address',
    'tracker.mode', 'tracker.max_swarms', 'tracker.max_peers', 'tracker.ws_idle_seconds',
    'seeder.upload_slots', 'seeder.max_connections', 'seeder.max_connections_per_torrent', 'seeder.max_connections_per_address',
    'seeder.handshake_seconds', 'seeder.idle_seconds', 'seeder.upload_rate_limit', 'seeder.peer_upload_rate_limit', 'seeder.max_requests_per_peer',
    'web.admin_token'
  ])
})

test('a plan sorts the changed keys into live ones and ones that wait for a restart', (t) => {
  t.deepEqual(planReload(base, base), { changed: [], live: [], restart: [] })
  const plan = planReload(base, change({ 'tracker.mode': 'open', 'http.port': 80, 'state.dir': '/srv/state', 'seeder.upload_rate_limit': 1000, 'library.folders': ['/a', '/b'] }))
  t.deepEqual(plan.live, ['library.folders', 'tracker.mode', 'seeder.upload_rate_limit'])
  t.deepEqual(plan.restart, ['state.dir', 'http.port'])
  t.deepEqual(plan.changed, ['library.folders', 'state.dir', 'http.port', 'tracker.mode', 'seeder.upload_rate_limit'])
})

test('lists compare by content, not identity', (t) => {
  t.deepEqual(planReload(base, change({ 'library.folders': [...base['library.folders']] })).changed, [])
})

test('the reconfigurer gives every engine the live changes once, restart keys at their running values, and keeps reporting restart keys', async (t) => {
  const engines = [recordingTarget(), recordingTarget()]
  const reconfigure = liveReconfigurer(base, engines)
  const next = change({ 'seeder.upload_slots': 3, 'seeder.peer_upload_rate_limit': 5000, 'library.rescan_interval': 5, 'hashing.threads': 2 })
  const result = await reconfigure(next)
  for (const engine of engines) {
    t.is(engine.given.length, 1)
    t.like(engine.given[0], { 'seeder.upload_slots': 3, 'seeder.peer_upload_rate_limit': 5000, 'library.rescan_interval': 5, 'hashing.threads': base['hashing.threads'] })
  }
  t.deepEqual(result.live, ['library.rescan_interval', 'seeder.upload_slots', 'seeder.peer_upload_rate_limit'])
  t.deepEqual(result.restart, ['hashing.threads'])
  const again = await reconfigure(next)
  t.is(engines[0]!.given.length, 1, 'nothing new to apply')
  t.deepEqual(again.changed, ['hashing.threads'], 'the restart key still differs from what runs')
})

test('a live change that fails is reported by its key, the other engines still apply, and it is tried again next time', async (t) => {
  const engine = recordingTarget()
  const failing: LiveTarget = { apply: () => { throw new ConfigError('no', undefined, 'tracker.mode') } }
  const reconfigure = liveReconfigurer(base, [failing, engine])
  const next = change({ 'tracker.mode': 'open', 'seeder.upload_slots': 4 })
  const result = await reconfigure(next)
  t.deepEqual(result.failed, [{ keys: ['tracker.mode'], error: 'no' }])
  t.deepEqual(result.live, ['seeder.upload_slots'])
  t.deepEqual(engine.calls, ['mode open'])
  t.deepEqual((await reconfigure(next)).failed.map((failure) => failure.keys), [['tracker.mode']])
})

test('an engine failing without naming a key leaves every live change to be tried again', async (t) => {
  const reconfigure = liveReconfigurer(base, [{ apply: () => { throw new Error('broken') } }])
  const next = change({ 'tracker.mode': 'open', 'seeder.upload_slots': 4 })
  const result = await reconfigure(next)
  t.deepEqual(result.failed, [{ keys: ['tracker.mode', 'seeder.upload_slots'], error: 'broken' }])
  t.deepEqual(result.live, [])
  t.deepEqual((await reconfigure(next)).changed, ['tracker.mode', 'seeder.upload_slots'])
})

test('reloadConfig: a bad file is logged with file and key and nothing is applied; RELOADING/READY and the phase bracket it either way', async (t) => {
  const engine = recordingTarget()
  const { calls } = engine
  const logger = recordingLogger()
  const events: string[] = []
  const options = {
    reconfigure: liveReconfigurer(base, [engine]),
    logger,
    notify: { reloading: () => events.push('RELOADING=1'), ready: () => events.push('READY=1') },
    status: { setPhase: (phase: string) => events.push(phase) }
  }
  const error = await reloadConfig({ ...options, load: async () => { throw new ConfigError('x.toml: key "tracker.mode" must be one of "published-only", "open", not "closed"', 'x.toml', 'tracker.mode') } })
  t.true(error instanceof ConfigError)
  t.deepEqual(calls, [])
  t.deepEqual(events, ['RELOADING=1', 'reloading', 'running', 'READY=1'])
  t.like(logger.lines[0], { level: 'error', fields: { file: 'x.toml', key: 'tracker.mode', code: 'ET_CONFIG' } })

  events.length = 0
  await reloadConfig({ ...options, load: async () => change({ 'tracker.mode': 'open', 'http.port': 81 }) })
  t.deepEqual(calls, ['mode open'])
  t.deepEqual(events, ['RELOADING=1', 'reloading', 'running', 'READY=1'])
  t.like(logger.lines.find((line) => line.msg === 'config reloaded'), { fields: { changed: 'http.port tracker.mode', applied: 'tracker.mode' } })
  t.like(logger.lines.find((line) => line.msg === 'config changes wait for a restart'), { level: 'warn', fields: { keys: 'http.port' } })
})
