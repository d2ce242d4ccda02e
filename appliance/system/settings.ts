import { readFile } from 'node:fs/promises'
import { homedir, hostname } from 'node:os'
import { join } from 'node:path'
import { parse, TomlError } from 'smol-toml'

/** The world the defaults depend on; injected so tests and the appliance image can pin it. */
export interface SettingsEnvironment {
  readonly home: string
  readonly hostname: string
  readonly stateHome: string
}

export function defaultEnvironment (): SettingsEnvironment {
  const home = homedir()
  return { home, hostname: hostname(), stateHome: process.env.XDG_STATE_HOME ?? join(home, '.local', 'state') }
}

type Kind =
  | { readonly type: 'integer', readonly min: number, readonly max: number }
  | { readonly type: 'string', readonly allowEmpty?: boolean }
  | { readonly type: 'boolean' }
  | { readonly type: 'strings' }
  | { readonly type: 'choice', readonly values: readonly string[] }

interface Spec<T> {
  readonly kind: Kind
  readonly default: (env: SettingsEnvironment) => T
  readonly doc: string
}

const port = { type: 'integer', min: 0, max: 65535 } as const
const count = (min: number, max: number): Kind => ({ type: 'integer', min, max })

/**
 * Every setting, once: its type, default and documentation. The config file, its validation, the
 * CLI overrides and `evertorrent print-config` all come from this table.
 */
export const SETTINGS = {
  'library.folders': {
    kind: { type: 'strings' },
    default: (env) => [join(env.home, 'evertorrent')],
    doc: 'Folders whose top-level entries are published, one torrent each (a file: single-file torrent; a folder: multi-file torrent). Created if missing.'
  } satisfies Spec<string[]>,
  'library.media_root': {
    kind: { type: 'string', allowEmpty: true },
    default: () => '',
    doc: 'Folder under which USB drives are mounted (by the udev rule and mount helper); every drive mounted there is a library. Empty: no drives.'
  } satisfies Spec<string>,
  'library.publish_folder_only': {
    kind: { type: 'boolean' },
    default: () => false,
    doc: 'When a drive has a top-level "publish" folder, publish only its entries instead of the whole drive.'
  } satisfies Spec<boolean>,
  'library.eject_command': {
    kind: { type: 'strings' },
    default: () => ['umount', '{mountpoint}'],
    doc: 'Command run for each drive on eject (button or web page); {mountpoint} and {device} are replaced.'
  } satisfies Spec<string[]>,
  'library.rescan_interval': {
    kind: count(1, 86400),
    default: () => 60,
    doc: 'Seconds between full rescans that notice changed files; new and removed entries are noticed at once.'
  } satisfies Spec<number>,
  'state.dir': {
    kind: { type: 'string' },
    default: (env) => join(env.stateHome, 'evertorrent'),
    doc: 'Where .torrent files and the fast-resume index are kept.'
  } satisfies Spec<string>,
  'network.announce_host': {
    kind: { type: 'string' },
    default: (env) => env.hostname,
    doc: 'Host name or address written into announce and web seed URLs: the name clients use to reach this box.'
  } satisfies Spec<string>,
  'network.listen_host': {
    kind: { type: 'string', allowEmpty: true },
    default: () => '',
    doc: 'Address the HTTP server, the tracker and the peer port listen on; empty means every IPv4 and IPv6 address.'
  } satisfies Spec<string>,
  'http.port': {
    kind: port,
    default: () => 8080,
    doc: 'HTTP port: status page, web seeds (BEP 19), .torrent downloads and the HTTP tracker at /announce.'
  } satisfies Spec<number>,
  'tracker.port': {
    kind: port,
    default: () => 6969,
    doc: 'Tracker port for UDP announces (BEP 15) and HTTP/WebSocket announces.'
  } satisfies Spec<number>,
  'tracker.mode': {
    kind: { type: 'choice', values: ['published-only', 'open'] },
    default: () => 'published-only',
    doc: '"published-only" tracks only torrents this box publishes (like a whitelist); "open" tracks any torrent.'
  } satisfies Spec<string>,
  'seeder.port': {
    kind: port,
    default: () => 6881,
    doc: 'TCP port the everseed accepts BitTorrent peers on, for every torrent.'
  } satisfies Spec<number>,
  'seeder.upload_slots': {
    kind: count(1, 1000),
    default: () => 8,
    doc: 'Peers uploaded to at the same time; the choker rotates the slots among interested peers.'
  } satisfies Spec<number>,
  'seeder.max_connections': {
    kind: count(1, 100000),
    default: () => 200,
    doc: 'Peer connections at most, over all torrents.'
  } satisfies Spec<number>,
  'seeder.upload_rate_limit': {
    kind: count(0, 2 ** 40),
    default: () => 0,
    doc: 'Total upload limit in bytes per second; 0 means unlimited.'
  } satisfies Spec<number>,
  'seeder.peer_upload_rate_limit': {
    kind: count(0, 2 ** 40),
    default: () => 0,
    doc: 'Upload limit per peer in bytes per second; 0 means unlimited.'
  } satisfies Spec<number>,
  'seeder.max_requests_per_peer': {
    kind: count(1, 10000),
    default: () => 250,
    doc: 'Block requests a peer may have outstanding; more are rejected, and a flood ends the connection.'
  } satisfies Spec<number>,
  'seeder.cache_size': {
    kind: count(0, 2 ** 32),
    default: () => 8 * 1024 * 1024,
    doc: 'Bytes of the read cache shared by all torrents.'
  } satisfies Spec<number>,
  'seeder.local_discovery': {
    kind: { type: 'boolean' },
    default: () => true,
    doc: 'Announce torrents on the LAN by local service discovery (BEP 14).'
  } satisfies Spec<boolean>,
  'hashing.threads': {
    kind: count(0, 256),
    default: () => 0,
    doc: 'Threads that hash new content; 0 means one per core.'
  } satisfies Spec<number>
} as const

export type SettingKey = keyof typeof SETTINGS
type ValueOf<K extends SettingKey> = ReturnType<(typeof SETTINGS)[K]['default']>
export type Settings = { readonly [K in SettingKey]: ValueOf<K> }

/** A config problem, with the file and key it is about and what was expected. */
export class ConfigError extends Error {
  readonly code = 'ET_CONFIG'

  constructor (message: string, readonly file?: string, readonly key?: string) {
    super(message)
    this.name = 'ConfigError'
  }
}

export function defaultSettings (env: SettingsEnvironment = defaultEnvironment()): Settings {
  return Object.fromEntries(Object.entries(SETTINGS).map(([key, spec]) => [key, spec.default(env)])) as unknown as Settings
}

/** Reads a TOML config file over the defaults; every key is checked, an unknown one is an error. */
export async function loadSettings (file: string | undefined, env: SettingsEnvironment = defaultEnvironment()): Promise<Settings> {
  if (file === undefined) return defaultSettings(env)
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    throw new ConfigError(`${file}: cannot read the config file (${(error as NodeJS.ErrnoException).code ?? String(error)})`, file)
  }
  return settingsFromToml(text, file, env)
}

export function settingsFromToml (text: string, file: string, env: SettingsEnvironment = defaultEnvironment()): Settings {
  let document: Record<string, unknown>
  try {
    document = parse(text)
  } catch (error) {
    const where = error instanceof TomlError ? ` at line ${error.line}, column ${error.column}` : ''
    throw new ConfigError(`${file}${where}: not valid TOML (${error instanceof Error ? error.message.split('\n')[0] : String(error)})`, file)
  }
  const values: Partial<Record<SettingKey, unknown>> = {}
  for (const [section, table] of Object.entries(document)) {
    if (typeof table !== 'object' || table === null || Array.isArray(table)) {
      throw new ConfigError(`${file}: "${section}" must be a [${section}] table${suggestion(section, sectionNames())}`, file, section)
    }
    for (const [name, value] of Object.entries(table)) values[`${section}.${name}` as SettingKey] = value
  }
  return withOverrides(defaultSettings(env), values, file)
}

/** Applies `values` (from a file or from command-line flags) after checking each against its spec. */
export function withOverrides (base: Settings, values: Partial<Record<string, unknown>>, source: string): Settings {
  const result: Record<string, unknown> = { ...base }
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined) continue
    if (!(key in SETTINGS)) throw new ConfigError(`${source}: unknown key "${key}"${suggestion(key, Object.keys(SETTINGS))}`, source, key)
    result[key] = checkValue(key as SettingKey, value, source)
  }
  return result as unknown as Settings
}

function checkValue (key: SettingKey, value: unknown, source: string): unknown {
  const kind: Kind = SETTINGS[key].kind
  const fail = (expected: string): never => {
    throw new ConfigError(`${source}: key "${key}" must be ${expected}, not ${JSON.stringify(value)}`, source, key)
  }
  switch (kind.type) {
    case 'integer': {
      const number = typeof value === 'bigint' ? Number(value) : value
      if (typeof number !== 'number' || !Number.isSafeInteger(number) || number < kind.min || number > kind.max) fail(`a whole number from ${kind.min} to ${kind.max}`)
      return number
    }
    case 'string':
      if (typeof value !== 'string' || (value === '' && kind.allowEmpty !== true)) fail(kind.allowEmpty === true ? 'a string' : 'a non-empty string')
      return value
    case 'boolean':
      if (typeof value !== 'boolean') fail('true or false')
      return value
    case 'strings':
      if (!Array.isArray(value) || value.some((item) => typeof item !== 'string' || item === '')) fail('a list of non-empty strings')
      return value
    case 'choice':
      if (typeof value !== 'string' || !kind.values.includes(value)) fail(`one of ${kind.values.map((v) => `"${v}"`).join(', ')}`)
      return value
  }
}

function sectionNames (): string[] {
  return [...new Set(Object.keys(SETTINGS).map((key) => key.split('.')[0]!))]
}

function suggestion (name: string, candidates: readonly string[]): string {
  let best: string | undefined
  let bestDistance = Infinity
  for (const candidate of candidates) {
    const distance = editDistance(name, candidate)
    if (distance < bestDistance) {
      best = candidate
      bestDistance = distance
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? ` — did you mean "${best}"?` : ''
}

function editDistance (a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    previous = current
  }
  return previous[b.length]!
}
