import type { StatusSnapshot } from './status-model.js'
import { hashingPattern, PATTERNS, type LedPattern } from './led-pattern.js'

/** How long after the last byte went out the LED still shows upload activity. */
export const ACTIVITY_WINDOW_MS = 1000

/** How far the button has been held: which gesture letting go now would make. */
export type HoldStage = 'short' | 'long' | 'very-long'

/** What only the hardware controller knows: the button being held, and what it asked for. */
export interface LocalState {
  /** How long the button has been held, while it is held. */
  readonly hold?: HoldStage
  /** The button asked for a shutdown. */
  readonly shuttingDown?: boolean
}

/**
 * The status LED's pattern for a snapshot, most urgent first: the button's feedback while it is
 * held, shutting down, starting, drives ejected (safe to pull), a fault (a drive pulled without
 * eject, a missing folder, an error), hashing, seeding, and idle when there is nothing to publish.
 * Paused items are neither work nor fault: the LED shows what the other items call for.
 */
export function patternFor (snapshot: StatusSnapshot, now: number, local: LocalState = {}): LedPattern {
  if (local.hold === 'very-long') return PATTERNS['armed-shutdown']
  if (local.hold === 'long') return PATTERNS['armed-eject']
  if (local.hold === 'short') return PATTERNS.pressed
  if (local.shuttingDown === true || snapshot.phase === 'stopping') return PATTERNS.stopping
  if (snapshot.phase === 'booting' || snapshot.phase === 'reloading') return PATTERNS.booting
  if (snapshot.safeToRemove) return PATTERNS['safe-to-remove']
  if (hasFault(snapshot)) return PATTERNS.attention
  const progress = hashingProgress(snapshot)
  if (progress !== undefined) return hashingPattern(progress)
  if (snapshot.totals.seeding > 0) return isUploading(snapshot, now) ? PATTERNS['seeding-active'] : PATTERNS.seeding
  return PATTERNS.idle
}

/** When the activity blink of this snapshot ends, if it shows one: the controller looks again then. */
export function activityEndsAt (snapshot: StatusSnapshot, now: number): number | undefined {
  return isUploading(snapshot, now) ? snapshot.lastUploadAt! + ACTIVITY_WINDOW_MS : undefined
}

function isUploading (snapshot: StatusSnapshot, now: number): boolean {
  return snapshot.lastUploadAt !== undefined && now - snapshot.lastUploadAt < ACTIVITY_WINDOW_MS
}

/**
 * A drive gone without eject, a missing folder, an item in error or offline. A drive ejected on
 * request and its items are no fault; neither is a paused item, which shows as nothing at all.
 */
function hasFault (snapshot: StatusSnapshot): boolean {
  const ejected = new Set(snapshot.libraries.filter((library) => library.state === 'ejected').map((library) => library.path))
  return snapshot.libraries.some((library) => library.state !== 'present' && library.state !== 'ejected') ||
    snapshot.items.some((item) => item.state === 'error' || (item.state === 'offline' && !ejected.has(item.library)))
}

/**
 * Bytes hashed over bytes to hash, for items hashing or going to be (queued, or waiting for a copy
 * into the library to finish); undefined when there are none.
 */
function hashingProgress (snapshot: StatusSnapshot): number | undefined {
  const working = snapshot.items.filter((item) => item.state === 'hashing' || item.state === 'queued' || item.state === 'waiting')
  if (working.length === 0) return undefined
  const total = working.reduce((sum, item) => sum + (item.totalBytes ?? 0), 0)
  const done = working.reduce((sum, item) => sum + (item.state === 'hashing' ? item.bytesHashed ?? 0 : 0), 0)
  return total === 0 ? 0 : done / total
}
