import { stringify } from 'smol-toml'
import { defaultSettings, SETTINGS, type SettingKey, type Settings, type SettingsEnvironment } from './settings.js'

/**
 * The documented config file: every key, commented out, with its default and what it does, grouped
 * in its [section]. Made from the settings table, so it can never drift from the code. Keys in `set`
 * are written out (not commented) with that value: the appliance's own settings.
 */
export function renderConfigFile (env: SettingsEnvironment, set: Partial<Settings> = {}): string {
  const defaults = defaultSettings(env)
  const lines = [Object.keys(set).length === 0
    ? '# evertorrent configuration (TOML). Every key is optional; the value shown is its default.'
    : '# evertorrent configuration (TOML). Every key is optional; a commented-out key shows its default.',
  '# Check a changed file with: evertorrent check-config FILE',
  '# A changed key takes effect at the next restart (systemctl restart evertorrent), unless it says a reload applies it.']
  let section = ''
  for (const key of Object.keys(SETTINGS) as SettingKey[]) {
    if (SETTINGS[key].kind.type === 'mirrors') {
      lines.push('', ...mirrorExample(SETTINGS[key].doc))
      continue
    }
    const [table, name] = key.split('.') as [string, string]
    if (table !== section) {
      section = table
      lines.push('', `[${table}]`)
    }
    const spec: { readonly doc: string, readonly live?: true } = SETTINGS[key]
    lines.push(`# ${spec.doc}`)
    if (spec.live === true) lines.push('# A reload applies it at once (systemctl reload evertorrent, or SIGHUP).')
    lines.push(key in set ? stringify({ [name]: set[key] }).trim() : `# ${stringify({ [name]: defaults[key] }).trim()}`)
  }
  return `${lines.join('\n')}\n`
}

/** `[[mirror]]` tables have no default to show: a commented-out example instead. */
function mirrorExample (doc: string): string[] {
  return [
    `# ${doc}`,
    '# [[mirror]]',
    '# public_key = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"',
    '# folder = "/media/evertorrent/mirror-of-a-friend"',
    '# max_bytes = 500000000000',
    '# keep_days = 30',
    '# poll_seconds = 600'
  ]
}
