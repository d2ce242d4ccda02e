/** Press durations that separate the three gestures; configurable, the long one shorter. */
export interface GestureThresholds {
  readonly longMs: number
  readonly veryLongMs: number
}

/** short: rescan; long (≥ longMs): eject the drives; very long (≥ veryLongMs): shut down. */
export type Gesture = 'short' | 'long' | 'very-long'

/** While held, the gesture that letting go now would make. */
export type HoldStage = Gesture

export const GESTURE_ORDER: readonly Gesture[] = ['short', 'long', 'very-long']

export function gestureFor (heldMs: number, thresholds: GestureThresholds): Gesture {
  if (heldMs >= thresholds.veryLongMs) return 'very-long'
  if (heldMs >= thresholds.longMs) return 'long'
  return 'short'
}

/** When the held button reaches its next stage, in ms after the press; undefined after the last. */
export function nextStageAfter (stage: HoldStage, thresholds: GestureThresholds): number | undefined {
  if (stage === 'short') return thresholds.longMs
  if (stage === 'long') return thresholds.veryLongMs
  return undefined
}

export function laterGesture (a: Gesture, b: Gesture): Gesture {
  return GESTURE_ORDER.indexOf(a) >= GESTURE_ORDER.indexOf(b) ? a : b
}

/**
 * Turns presses and releases, stamped by the source (the kernel's event time where there is one),
 * into gestures. A second press without a release, or a release without a press, is ignored:
 * the source dropped an event and the duration would be a guess.
 */
export class GestureRecognizer {
  private pressedAt: number | undefined

  constructor (private readonly thresholds: GestureThresholds) {}

  get pressed (): boolean {
    return this.pressedAt !== undefined
  }

  /** True when this starts a press. */
  press (at: number): boolean {
    if (this.pressedAt !== undefined) return false
    this.pressedAt = at
    return true
  }

  /** The gesture the press made; `shown` is the stage the person saw when letting go, if later. */
  release (at: number, shown: HoldStage = 'short'): Gesture | undefined {
    if (this.pressedAt === undefined) return undefined
    const heldMs = at - this.pressedAt
    this.pressedAt = undefined
    return laterGesture(gestureFor(Math.max(0, heldMs), this.thresholds), shown)
  }

  /** Forgets a press whose release will never come (the device went away). */
  reset (): void {
    this.pressedAt = undefined
  }
}
