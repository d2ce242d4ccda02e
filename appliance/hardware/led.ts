import type { LedPattern } from '../status/led-pattern.js'

/**
 * One LED. `set` shows a pattern (blinking on its own, by the kernel where the driver can);
 * `close` releases the LED and leaves it showing what it shows — an LED switched off is handed
 * back to whatever drove it before.
 */
export interface Led {
  /** What the driver is, for messages: `sysfs-led ACT`, `gpio-sysfs GPIO17`, … */
  readonly description: string
  start: () => Promise<void>
  set: (pattern: LedPattern) => Promise<void>
  close: () => Promise<void>
}
