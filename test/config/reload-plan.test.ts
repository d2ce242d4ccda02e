import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test from 'ava'
import { liveReconfigurer, planReload, reloadConfig, type LiveSeederLimits, type LiveTargets } from '../../appliance/config/reload.js'
import type { Logger, LogFields, LogLevel } from '../../appliance/platform/logger.js'
import { ConfigError, defaultSettings, withOverrides, type Settings, type SettingsEnvironment } from '../../appliance/config/settings.js'

const env: SettingsEnvironment = { home: '/home/pi', hostname: 'box', stateHome: '/home/pi/.local/state' }
const base = defaultSettings(env)
const change = (values: Record<string, unknown>, from: Settings = base): Settings => withOverrides(from, values, 'test')

function recordingTargets (): { targets: LiveTargets, calls: string[] } {
  const calls: string[] = []
  const targets: LiveTargets = {
    seeder: { updateLimits: (limits: LiveSeederLimits) => { calls.push(`limits ${JSON.stringify(limits)}`) } },
    tracker: { setMode: (mode) => { calls.push(`mode ${mode}`) } },
    publisher: { setRescanInterval: (ms) => { calls.push(`rescan ${ms}`) } },
    libraries: { setFolders: (folders) => { calls.push(`folders ${folders.join(',')}`) } }
  }
  return { targets, calls }
}

function recordingLogger (): Logger & { lines: Array<{ level: LogLevel, msg: string, fields: LogFields }> } {
  const lines: Array<{ level: LogLevel, msg: string, fields: LogFields }> = []
  return { lines, log: (level, msg, fields = {}) => { lines.push({ level, msg, fields }) } }
}

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

test('the reconfigurer applies each live group once, with all of its values, and keeps reporting restart keys', async (t) => {
  const folder = mkdtempSync(join(tmpdir(), 'evertorrent-reload-'))
  t.teardown(() => rmSync(folder, { recursive: true, force: true }))
  const { targets, calls } = recordingTargets()
  const reconfigure = liveReconfigurer(base, targets)
  const next = change({ 'seeder.upload_slots': 3, 'seeder.peer_upload_rate_limit': 5000, 'library.rescan_interval': 5, 'library.folders': [join(folder, 'new')], 'hashing.threads': 2 })
  const result = await reconfigure(next)
  t.deepEqual(calls, [
    `limits ${JSON.stringify({ uploadSlots: 3, maxConnections: 200, uploadRateLimit: 0, peerUploadRateLimit: 5000 })}`,
    `folders ${join(folder, 'new')}`,
    'rescan 5000'
  ])
  t.true(statSync(join(folder, 'new')).isDirectory(), 'a new library folder is created, as at start')
  t.deepEqual(result.restart, ['hashing.threads'])
  calls.length = 0
  const again = await reconfigure(next)
  t.deepEqual(calls, [], 'nothing new to apply')
  t.deepEqual(again.changed, ['hashing.threads'], 'the restart key still differs from what runs')
})

test('a live change that fails is reported, the others still apply, and it is tried again next time', async (t) => {
  const { targets, calls } = recordingTargets()
  const failing: LiveTargets = { ...targets, tracker: { setMode: () => { throw new Error('no') } } }
  const reconfigure = liveReconfigurer(base, failing)
  const next = change({ 'tracker.mode': 'open', 'seeder.upload_slots': 4 })
  const result = await reconfigure(next)
  t.deepEqual(result.failed, [{ keys: ['tracker.mode'], error: 'no' }])
  t.deepEqual(result.live, ['seeder.upload_slots'])
  t.is(calls.length, 1)
  t.deepEqual((await reconfigure(next)).failed.map((failure) => failure.keys), [['tracker.mode']])
})

test('reloadConfig: a bad file is logged with file and key and nothing is applied; RELOADING/READY and the phase bracket it either way', async (t) => {
  const { targets, calls } = recordingTargets()
  const logger = recordingLogger()
  const events: string[] = []
  const options = {
    reconfigure: liveReconfigurer(base, targets),
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
