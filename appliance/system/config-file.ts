import { stringify } from 'smol-toml'
import { defaultSettings, SETTINGS, type SettingKey, type SettingsEnvironment } from './settings.js'

/**
 * The documented config file: every key, commented out, with its default and what it does, grouped
 * in its [section]. Made from the settings table, so it can never drift from the code.
 */
export function renderConfigFile (env: SettingsEnvironment): string {
  const defaults = defaultSettings(env)
  const lines = ['# evertorrent configuration (TOML). Every key is optional; the value shown is its default.',
    '# Check a changed file with: evertorrent check-config FILE']
  let section = ''
  for (const key of Object.keys(SETTINGS) as SettingKey[]) {
    const [table, name] = key.split('.') as [string, string]
    if (table !== section) {
      section = table
      lines.push('', `[${table}]`)
    }
    lines.push(`# ${SETTINGS[key].doc}`)
    lines.push(`# ${stringify({ [name]: defaults[key] }).trim()}`)
  }
  return `${lines.join('\n')}\n`
}
