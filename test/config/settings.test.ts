import test from 'ava'
import { ConfigError, defaultSettings, settingsFromToml, withOverrides, type SettingsEnvironment } from '../../appliance/config/settings.js'

const env: SettingsEnvironment = { home: '/home/pi', hostname: 'box', stateHome: '/home/pi/.local/state' }

function configError (t: import('ava').ExecutionContext, toml: string): ConfigError {
  const error = t.throws(() => settingsFromToml(toml, 'config.toml', env), { instanceOf: ConfigError })
  t.is(error.code, 'ET_CONFIG')
  return error
}

test('defaults need no root and follow the environment', (t) => {
  const settings = defaultSettings(env)
  t.deepEqual(settings['library.folders'], ['/home/pi/evertorrent'])
  t.is(settings['state.dir'], '/home/pi/.local/state/evertorrent')
  t.is(settings['network.announce_host'], 'box')
  t.true(settings['http.port'] >= 1024)
  t.is(settings['tracker.mode'], 'published-only')
})

test('a config file overrides the defaults it names and keeps the rest', (t) => {
  const settings = settingsFromToml('[http]\nport = 80 # the status page\n[library]\nfolders = ["/media/a", "/media/b"]\n', 'config.toml', env)
  t.is(settings['http.port'], 80)
  t.deepEqual(settings['library.folders'], ['/media/a', '/media/b'])
  t.is(settings['tracker.port'], defaultSettings(env)['tracker.port'])
})

test('a wrong type names the file, the key and what was expected', (t) => {
  const error = configError(t, '[seeder]\nupload_slots = "eight"\n')
  t.is(error.key, 'seeder.upload_slots')
  t.regex(error.message, /config\.toml.*seeder\.upload_slots.*whole number/)
})

test('an unknown key is an error with a suggestion', (t) => {
  const error = configError(t, '[seeder]\nupload_slot = 4\n')
  t.is(error.key, 'seeder.upload_slot')
  t.regex(error.message, /did you mean "seeder\.upload_slots"/)
})

test('a port out of range is refused', (t) => {
  const error = configError(t, '[http]\nport = 70000\n')
  t.regex(error.message, /http\.port.*0 to 65535/)
})

test('a bad choice lists the allowed values', (t) => {
  const error = configError(t, '[tracker]\nmode = "closed"\n')
  t.regex(error.message, /"published-only", "open"/)
})

test('invalid TOML reports the line', (t) => {
  const error = configError(t, '[http]\nport = = 3\n')
  t.regex(error.message, /line 2/)
})

test('a key outside any table is refused', (t) => {
  const error = configError(t, 'port = 3\n')
  t.is(error.key, 'port')
})

test('a setting written at the top level is told which table it belongs in', (t) => {
  const cases: ReadonlyArray<[string, string]> = [
    // A newcomer's guess: the table and the name joined with "_".
    ['http_port = 9000', '"http_port" is not a setting at the top level — did you mean "port" in the [http] table?'],
    ['seeder_upload_slots = 4', '"seeder_upload_slots" is not a setting at the top level — did you mean "upload_slots" in the [seeder] table?'],
    ['seeder_uplaod_slots = 4', '"seeder_uplaod_slots" is not a setting at the top level — did you mean "upload_slots" in the [seeder] table?'],
    ['"tracker.mode" = "open"', '"tracker.mode" is not a setting at the top level — did you mean "mode" in the [tracker] table?'],
    // The name alone, when one table has it.
    ['upload_slots = 4', '"upload_slots" is not a setting at the top level — it belongs in the [seeder] table'],
    ['folders = ["/srv"]', '"folders" is not a setting at the top level — it belongs in the [library] table'],
    // The name alone, when several tables have it.
    ['port = 3', '"port" is not a setting at the top level — "port" is a setting of the tables [http], [tracker], [seeder], [dht]: put it under the one you mean'],
    ['htp = 1', '"htp" is not a setting at the top level — did you mean the [http] table?'],
    ['zzzzzz = 1', '"zzzzzz" is not a setting at the top level: every setting is in a table (evertorrent print-config shows them all)'],
    ['http = 9000', '"http" must be a [http] table']
  ]
  for (const [toml, message] of cases) {
    const error = configError(t, `${toml}\n`)
    t.is(error.message, `config.toml: ${message}`, toml)
    t.is(error.key, toml.split(' = ')[0]!.replaceAll('"', ''))
  }
})

test('command-line overrides are checked like the file', (t) => {
  const base = defaultSettings(env)
  t.is(withOverrides(base, { 'seeder.port': 7000 }, 'command line')['seeder.port'], 7000)
  t.throws(() => withOverrides(base, { 'seeder.port': -1 }, 'command line'), { instanceOf: ConfigError })
})

test('hashing.format is v1 by default; hybrid and v2 are accepted (the everseed speaks the BEP 52 wire)', (t) => {
  t.is(defaultSettings(env)['hashing.format'], 'v1')
  for (const format of ['v1', 'hybrid', 'v2'] as const) t.is(settingsFromToml(`[hashing]\nformat = "${format}"\n`, 'config.toml', env)['hashing.format'], format)
  t.regex(configError(t, '[hashing]\nformat = "v3"\n').message, /must be one of "v1", "hybrid", "v2"/)
})
