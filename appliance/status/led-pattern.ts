export type PatternName =
  | 'off'
  | 'booting'
  | 'idle'
  | 'hashing'
  | 'seeding'
  | 'seeding-active'
  | 'attention'
  | 'pressed'
  | 'armed-eject'
  | 'armed-shutdown'
  | 'stopping'
  | 'safe-to-remove'

/**
 * What one LED shows, as data: lit for `onMs`, dark for `offMs`, repeating. `onMs` 0 is always
 * dark, `offMs` 0 is always lit. One on/off pair is what the kernel's timer trigger can blink on
 * its own, so every pattern is one. The status page draws the same timings in `colour`.
 */
export interface LedPattern {
  readonly name: PatternName
  readonly onMs: number
  readonly offMs: number
  /** The colour a virtual (RGB) view draws while lit, as `#rrggbb`. */
  readonly colour: string
  /** What the person looking at the box should understand. */
  readonly meaning: string
  /** Hashing only: the fraction done, 0 to 1, that `onMs` shows. */
  readonly progress?: number
}

/** One full blink of the hashing pattern; the lit part grows with progress. */
export const HASHING_PERIOD_MS = 3000

export const PATTERNS = {
  off: { name: 'off', onMs: 0, offMs: 0, colour: '#000000', meaning: 'the service is not running (after a shutdown: safe to unplug the power)' },
  booting: { name: 'booting', onMs: 500, offMs: 500, colour: '#ffa000', meaning: 'starting up or reloading the config' },
  idle: { name: 'idle', onMs: 100, offMs: 2900, colour: '#3070ff', meaning: 'running, nothing to publish (no drive, or it is empty)' },
  seeding: { name: 'seeding', onMs: 1000, offMs: 0, colour: '#00c040', meaning: 'everything is published and seeding' },
  'seeding-active': { name: 'seeding-active', onMs: 450, offMs: 50, colour: '#00c040', meaning: 'seeding, and uploading right now' },
  attention: { name: 'attention', onMs: 100, offMs: 100, colour: '#ff2020', meaning: 'a drive was pulled without eject, or something failed: look at the status page' },
  pressed: { name: 'pressed', onMs: 0, offMs: 0, colour: '#000000', meaning: 'button held: let go now to rescan' },
  'armed-eject': { name: 'armed-eject', onMs: 250, offMs: 250, colour: '#ff8000', meaning: 'button held: let go now to eject the drives' },
  'armed-shutdown': { name: 'armed-shutdown', onMs: 50, offMs: 50, colour: '#ff00ff', meaning: 'button held: let go now to shut down' },
  stopping: { name: 'stopping', onMs: 50, offMs: 450, colour: '#a040ff', meaning: 'shutting down: wait until the light goes out' },
  'safe-to-remove': { name: 'safe-to-remove', onMs: 100, offMs: 900, colour: '#00e0e0', meaning: 'drives ejected: safe to unplug them' }
} as const satisfies Record<Exclude<PatternName, 'hashing'>, LedPattern>

/**
 * Hashing: a slow blink whose lit part follows the progress, in tenths so that the LED is not
 * reprogrammed on every progress event (10% lit at the start, 90% near the end).
 */
export function hashingPattern (progress: number): LedPattern {
  const tenths = Math.min(9, Math.max(1, Math.floor(progress * 10)))
  const onMs = tenths * HASHING_PERIOD_MS / 10
  return { name: 'hashing', onMs, offMs: HASHING_PERIOD_MS - onMs, colour: '#ffe000', meaning: 'hashing new content: the longer the light, the further along', progress }
}

export function isSteadyOn (pattern: LedPattern): boolean {
  return pattern.onMs > 0 && pattern.offMs === 0
}

export function isDark (pattern: LedPattern): boolean {
  return pattern.onMs === 0
}

/** Two patterns look the same on an LED (the meaning and progress may still differ). */
export function looksSame (a: LedPattern, b: LedPattern): boolean {
  if (isDark(a) || isDark(b)) return isDark(a) && isDark(b)
  if (isSteadyOn(a) || isSteadyOn(b)) return isSteadyOn(a) && isSteadyOn(b)
  return a.onMs === b.onMs && a.offMs === b.offMs
}
