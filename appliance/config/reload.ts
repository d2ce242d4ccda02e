import { mkdir } from 'node:fs/promises'
import type { Logger } from '../platform/logger.js'
import { ConfigError, SETTINGS, type SettingKey, type Settings } from './settings.js'

/** Limits the seeder takes while running; peers stay connected. */
export interface LiveSeederLimits {
  readonly uploadSlots: number
  readonly maxConnections: number
  readonly uploadRateLimit: number
  readonly peerUploadRateLimit: number
}

/**
 * What the running parts offer for a reload. Shapes only, so this module imports no engine: the
 * composition root passes the real seeder, tracker, publisher and status model.
 */
export interface LiveTargets {
  readonly seeder: { updateLimits: (limits: LiveSeederLimits) => void }
  readonly tracker: { setMode: (mode: 'published-only' | 'open') => void }
  readonly publisher: { setRescanInterval: (ms: number) => void }
  /** The configured library folders (drives come and go on their own). */
  readonly libraries: { setFolders: (folders: readonly string[]) => void }
}

interface LiveGroup {
  readonly keys: readonly SettingKey[]
  readonly apply: (targets: LiveTargets, settings: Settings) => Promise<void> | void
}

/**
 * The settings a reload applies without a restart, and how. A key that is not here (ports, listen
 * and announce host, state dir, cache size, hashing threads, and any key added later until someone
 * adds it here) takes effect at the next restart.
 */
const LIVE_GROUPS: readonly LiveGroup[] = [
  {
    keys: ['seeder.upload_slots', 'seeder.max_connections', 'seeder.upload_rate_limit', 'seeder.peer_upload_rate_limit'],
    apply: (targets, settings) => targets.seeder.updateLimits({
      uploadSlots: settings['seeder.upload_slots'],
      maxConnections: settings['seeder.max_connections'],
      uploadRateLimit: settings['seeder.upload_rate_limit'],
      peerUploadRateLimit: settings['seeder.peer_upload_rate_limit']
    })
  },
  {
    keys: ['tracker.mode'],
    apply: (targets, settings) => targets.tracker.setMode(settings['tracker.mode'] as 'published-only' | 'open')
  },
  {
    keys: ['library.folders'],
    apply: async (targets, settings) => {
      const folders = settings['library.folders']
      for (const folder of folders) await mkdir(folder, { recursive: true })
      targets.libraries.setFolders(folders)
    }
  },
  {
    keys: ['library.rescan_interval'],
    apply: (targets, settings) => targets.publisher.setRescanInterval(settings['library.rescan_interval'] * 1000)
  }
]

export const LIVE_KEYS: ReadonlySet<SettingKey> = new Set(LIVE_GROUPS.flatMap((group) => group.keys))

export interface ReloadPlan {
  /** Every key whose value differs from the one in force. */
  readonly changed: readonly SettingKey[]
  /** Those applied now. */
  readonly live: readonly SettingKey[]
  /** Those that wait for a restart. */
  readonly restart: readonly SettingKey[]
}

/** Which keys changed between the settings in force and the new ones, and which of them apply live. */
export function planReload (current: Settings, next: Settings): ReloadPlan {
  const changed = (Object.keys(SETTINGS) as SettingKey[]).filter((key) => !sameValue(current[key], next[key]))
  return {
    changed,
    live: changed.filter((key) => LIVE_KEYS.has(key)),
    restart: changed.filter((key) => !LIVE_KEYS.has(key))
  }
}

function sameValue (a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((item, index) => sameValue(item, b[index]))
  return Object.is(a, b)
}

export interface ReconfigureResult extends ReloadPlan {
  /** Live keys whose applying failed; they stay as they were and count as changed at the next reload. */
  readonly failed: ReadonlyArray<{ readonly keys: readonly SettingKey[], readonly error: string }>
}

/**
 * Applies new settings to the running parts, remembering what is in force: live keys take their new
 * value, restart keys keep the running one (so the next reload still reports them).
 */
export function liveReconfigurer (initial: Settings, targets: LiveTargets): (next: Settings) => Promise<ReconfigureResult> {
  let inForce: Settings = initial
  return async (next) => {
    const plan = planReload(inForce, next)
    const applied: Partial<Settings> = {}
    const failed: Array<{ keys: readonly SettingKey[], error: string }> = []
    for (const group of LIVE_GROUPS) {
      if (!group.keys.some((key) => plan.live.includes(key))) continue
      try {
        await group.apply(targets, next)
        Object.assign(applied, Object.fromEntries(group.keys.map((key) => [key, next[key]])))
      } catch (error) {
        failed.push({ keys: group.keys.filter((key) => plan.live.includes(key)), error: error instanceof Error ? error.message : String(error) })
      }
    }
    inForce = { ...inForce, ...applied }
    return { ...plan, live: plan.live.filter((key) => key in applied), failed }
  }
}

export interface ReloadOptions {
  /** Reads the config file again, with the command-line flags over it as at start. */
  readonly load: () => Promise<Settings>
  readonly reconfigure: (next: Settings) => Promise<ReconfigureResult>
  readonly logger: Logger
  /** sd_notify: RELOADING=1 before, READY=1 after, whatever the outcome (the service keeps running). */
  readonly notify?: { reloading: () => void, ready: () => void } | undefined
  readonly status?: { setPhase: (phase: 'reloading' | 'running') => void }
}

/**
 * One reload: a config file that does not load leaves everything as it runs and logs the precise
 * problem (file, key, what was expected); a good one applies its live keys and names the keys that
 * need a restart.
 */
export async function reloadConfig (options: ReloadOptions): Promise<ReconfigureResult | ConfigError> {
  const { logger } = options
  options.notify?.reloading()
  options.status?.setPhase('reloading')
  try {
    let next: Settings
    try {
      next = await options.load()
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error
      logger.log('error', 'config not reloaded: the running config stays', { file: error.file, key: error.key, code: error.code, error: error.message })
      return error
    }
    const result = await options.reconfigure(next)
    for (const failure of result.failed) logger.log('error', 'config change not applied', { keys: failure.keys.join(' '), error: failure.error })
    logger.log('info', 'config reloaded', { changed: result.changed.join(' '), applied: result.live.join(' ') })
    if (result.restart.length > 0) {
      logger.log('warn', 'config changes wait for a restart', { keys: result.restart.join(' '), hint: 'systemctl restart evertorrent' })
    }
    return result
  } finally {
    options.status?.setPhase('running')
    options.notify?.ready()
  }
}

/**
 * Reloads on every SIGHUP (what `systemctl reload` sends to a Type=notify-reload service); signals
 * during a reload are folded into one more reload after it. Returns a function that stops listening.
 */
export function reloadOnSignal (options: ReloadOptions, signal: NodeJS.Signals = 'SIGHUP'): () => void {
  let running: Promise<void> | undefined
  let again = false
  const run = (): void => {
    running = reloadConfig(options).then(() => {}, (error: unknown) => {
      options.logger.log('error', 'config reload failed', { error: error instanceof Error ? error.message : String(error) })
    }).finally(() => {
      running = undefined
      if (again) {
        again = false
        run()
      }
    })
  }
  const onSignal = (): void => {
    if (running !== undefined) again = true
    else run()
  }
  process.on(signal, onSignal)
  return () => { process.off(signal, onSignal) }
}
