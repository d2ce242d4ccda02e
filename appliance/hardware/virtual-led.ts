import type { Led } from './led.js'
import { PATTERNS, type LedPattern } from '../status/led-pattern.js'

/** An LED that only remembers its pattern: for machines without one, and for the status page. */
export class VirtualLed implements Led {
  readonly description = 'virtual'
  private current: LedPattern = PATTERNS.off

  get pattern (): LedPattern {
    return this.current
  }

  async start (): Promise<void> {}

  async set (pattern: LedPattern): Promise<void> {
    this.current = pattern
  }

  async close (): Promise<void> {}
}
