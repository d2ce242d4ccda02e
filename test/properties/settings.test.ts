import assert from 'node:assert/strict'
import test from 'ava'
import fc from 'fast-check'
import { stringify } from 'smol-toml'
import { ConfigError, defaultSettings, SETTINGS, settingsFromToml, type SettingKey, type SettingsEnvironment } from '../../appliance/config/settings.js'
import { mutated, propertyOptions, refusesOnlyWith } from './properties.js'

const env: SettingsEnvironment = { home: '/home/pi', hostname: 'box', stateHome: '/home/pi/.local/state' }
const isRefusal = (error: unknown): boolean => error instanceof ConfigError && error.code === 'ET_CONFIG'
/** The [section] keys; `[[mirror]]` tables have tests of their own (test/config/mirror-entries.test.ts). */
const KEYS = (Object.keys(SETTINGS) as SettingKey[]).filter((key) => SETTINGS[key].kind.type !== 'mirrors')

/** A value the setting's kind accepts. */
function validValue (key: SettingKey): fc.Arbitrary<unknown> {
  const kind = SETTINGS[key].kind
  switch (kind.type) {
    case 'integer': return fc.integer({ min: kind.min, max: kind.max })
    case 'string': return fc.string({ unit: 'binary', minLength: 'allowEmpty' in kind && kind.allowEmpty === true ? 0 : 1, maxLength: 20 })
    case 'boolean': return fc.boolean()
    case 'strings': return fc.array(fc.string({ unit: 'binary', minLength: 1, maxLength: 10 }), { maxLength: 4 })
    case 'choice': return fc.constantFrom(...kind.values)
    case 'mirrors': return fc.constant([])
  }
}

/** Some settings with valid values, as a TOML file writes them: one table per section. */
const chosen = fc.shuffledSubarray(KEYS, { maxLength: 12 }).chain((keys) => fc.tuple(...keys.map((key) => validValue(key).map((value) => [key, value] as const))))
function toToml (pairs: ReadonlyArray<readonly [SettingKey, unknown]>): string {
  const tables: Record<string, Record<string, unknown>> = {}
  for (const [key, value] of pairs) {
    const [section, name] = key.split('.') as [string, string]
    tables[section] = { ...tables[section], [name]: value }
  }
  return stringify(tables)
}

test('a config file of valid values reads back as those values over the defaults', (t) => {
  fc.assert(fc.property(chosen, (pairs) => {
    assert.deepEqual(settingsFromToml(toToml(pairs), 'config.toml', env), { ...defaultSettings(env), ...Object.fromEntries(pairs) })
  }), propertyOptions(300))
  t.pass()
})

test('a value outside its setting\'s kind is refused with ET_CONFIG naming the key', (t) => {
  const wrong = fc.constantFrom(...KEYS).chain((key) => {
    const kind = SETTINGS[key].kind
    const bad = kind.type === 'integer'
      ? fc.oneof(fc.constantFrom(kind.min - 1, kind.max + 1, '8', 1.5), fc.integer({ min: Number.MIN_SAFE_INTEGER, max: kind.min - 1 }), fc.integer({ min: kind.max + 1, max: Number.MAX_SAFE_INTEGER }))
      : kind.type === 'choice' ? fc.string({ maxLength: 8 }).filter((text) => !(kind.values as readonly string[]).includes(text)) : fc.constant(kind.type === 'boolean' ? 'yes' : 7)
    return bad.map((value) => [key, value] as const)
  })
  fc.assert(fc.property(wrong, ([key, value]) => {
    assert.throws(() => settingsFromToml(toToml([[key, value]]), 'config.toml', env), (error) => isRefusal(error) && (error as ConfigError).key === key)
  }), propertyOptions(300))
  t.pass()
})

test('any text, and any mutant of a valid config file, is read or refused with ET_CONFIG', (t) => {
  const texts = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 200 }),
    fc.string({ unit: fc.constantFrom('[', ']', '=', '"', "'", '\n', '#', '.', ',', '{', '}', 'a', '1', ' ', 'http', 'port', '__proto__', 'true'), maxLength: 40 }),
    mutated(chosen.map((pairs) => Buffer.from(toToml(pairs)))).map((bytes) => bytes.toString('utf8'))
  )
  fc.assert(fc.property(texts, (text) => refusesOnlyWith(isRefusal, () => settingsFromToml(text, 'config.toml', env))), propertyOptions(1000))
  t.pass()
})

test('every setting written at the top level, as table_name or by a name only one table has, is told its table', (t) => {
  for (const key of KEYS) {
    const [table, name] = key.split('.') as [string, string]
    const value = stringify({ value: defaultSettings(env)[key] }).trim().slice('value = '.length)
    for (const written of [`${table}_${name}`, name]) {
      if (written === name && KEYS.filter((other) => other.endsWith(`.${name}`)).length > 1) continue
      const error = t.throws(() => settingsFromToml(`${written} = ${value}\n`, 'config.toml', env), { instanceOf: ConfigError })
      t.is(error?.key, written)
      t.true(error?.message.endsWith(written === name ? ` — it belongs in the [${table}] table` : ` — did you mean "${name}" in the [${table}] table?`), error?.message)
    }
  }
})
