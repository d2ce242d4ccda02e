import { readFileSync } from 'node:fs'
import test from 'ava'
import { renderLimitsTable } from '../../appliance/limits-table.js'
import { APPLIANCE_ENVIRONMENT, APPLIANCE_SETTINGS, renderApplianceConfig } from '../../appliance/config/appliance-config.js'
import { settingsFromToml, SETTINGS } from '../../appliance/config/settings.js'
import { sourcePath } from '../helpers/repo.js'

const shipped = readFileSync(sourcePath('config/evertorrent.toml'), 'utf8')

test('config/evertorrent.toml is what the settings table renders (run node dist/scripts/render-config.js after changing a setting)', (t) => {
  t.is(shipped, renderApplianceConfig())
})

test('the shipped config loads, sets the appliance values and documents every key', (t) => {
  const settings = settingsFromToml(shipped, 'config/evertorrent.toml', APPLIANCE_ENVIRONMENT)
  for (const [key, value] of Object.entries(APPLIANCE_SETTINGS)) t.deepEqual(settings[key as keyof typeof settings], value, key)
  t.is(settings['state.dir'], '/var/lib/evertorrent')
  for (const key of Object.keys(SETTINGS) as Array<keyof typeof SETTINGS>) {
    if (SETTINGS[key].kind.type === 'mirrors') {
      t.regex(shipped, new RegExp(`^# \\[\\[${key}\\]\\]$`, 'm'), key)
      continue
    }
    const name = key.split('.')[1]!
    t.regex(shipped, new RegExp(`^(# )?${name} = `, 'm'), key)
  }
})

test('docs/limits.md is what the settings table and the fixed limits render (run node dist/scripts/render-config.js)', (t) => {
  t.is(readFileSync(sourcePath('docs/limits.md'), 'utf8'), renderLimitsTable(APPLIANCE_ENVIRONMENT))
})
