import type { Logger } from '../platform/logger.js'
import { ConfigError, SETTINGS, type SettingKey, type Settings } from './settings.js'

/**
 * A running engine that takes new settings: its `apply(settings)` reads the live keys it has and
 * changes what it can while running. It is called whenever any live key changed, with the settings in
 * force plus the live changes (restart keys keep their running values), so it must leave alone what
 * did not change. A `ConfigError` naming a key says which setting could not be applied.
 */
export interface LiveTarget {
  apply: (settings: Settings) => Promise<void> | void
}

/** The settings a reload applies without a restart: those marked `live` in the settings table. */
export const LIVE_KEYS: ReadonlySet<SettingKey> = new Set((Object.keys(SETTINGS) as SettingKey[]).filter((key) => 'live' in SETTINGS[key]))

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
 * Applies new settings to the running engines, remembering what is in force: live keys take their
 * new value, restart keys keep the running one (so the next reload still reports them). An engine
 * whose `apply` fails leaves its keys (those its ConfigError names, else every live key changed) as
 * they were: they count as changed at the next reload, which applies them again.
 */
export function liveReconfigurer (initial: Settings, targets: readonly LiveTarget[]): (next: Settings) => Promise<ReconfigureResult> {
  let inForce: Settings = initial
  return async (next) => {
    const plan = planReload(inForce, next)
    const failed: Array<{ keys: readonly SettingKey[], error: string }> = []
    if (plan.live.length === 0) return { ...plan, failed }
    const given: Settings = { ...inForce, ...valuesOf(next, plan.live) }
    for (const target of targets) {
      try {
        await target.apply(given)
      } catch (error) {
        const key = error instanceof ConfigError ? plan.live.find((live) => live === error.key) : undefined
        failed.push({ keys: key !== undefined ? [key] : plan.live, error: error instanceof Error ? error.message : String(error) })
      }
    }
    const unapplied = new Set(failed.flatMap((failure) => failure.keys))
    const live = plan.live.filter((key) => !unapplied.has(key))
    inForce = { ...inForce, ...valuesOf(next, live) }
    return { ...plan, live, failed }
  }
}

function valuesOf (settings: Settings, keys: readonly SettingKey[]): Partial<Settings> {
  return Object.fromEntries(keys.map((key) => [key, settings[key]]))
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
