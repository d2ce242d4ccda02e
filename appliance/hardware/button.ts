import type { EventEmitter } from 'node:events'
import type { HardwareError } from './errors.js'

export interface ButtonEvents {
  /** `at` is in the source's own milliseconds (kernel event time where there is one): only differences count. */
  press: [at: number]
  release: [at: number]
  /** The button stopped working (device gone, helper exited); it will report nothing more. */
  warning: [error: HardwareError]
}

/** One push button. */
export interface Button extends EventEmitter<ButtonEvents> {
  readonly description: string
  start: () => Promise<void>
  close: () => Promise<void>
}
