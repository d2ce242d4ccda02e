import type { Clock, TimerHandle } from './clock.js'
import { systemClock } from './clock.js'
import type { GpioLineSpec } from './gpio-line.js'
import { SysfsGpio } from './gpio-sysfs.js'
import type { Led } from './led.js'
import { isDark, isSteadyOn, PATTERNS, type LedPattern } from '../status/led-pattern.js'

export interface GpioSysfsLedOptions {
  readonly line: GpioLineSpec
  /** The LED lights when the line is low (wired from 3.3 V to the pin). */
  readonly activeLow: boolean
  readonly sysRoot?: string
  readonly clock?: Clock
  readonly waitMs?: number
}

/**
 * An LED on a GPIO line through sysfs. There is no kernel timer here, so blinking is our timer
 * writing `value`; it stops when the process does. Prefer the gpio-led overlay (sysfs-led).
 */
export class GpioSysfsLed implements Led {
  readonly description: string
  private readonly gpio: SysfsGpio
  private readonly clock: Clock
  private current: LedPattern = PATTERNS.off
  private timer: TimerHandle | undefined

  constructor (options: GpioSysfsLedOptions) {
    this.gpio = new SysfsGpio({ line: options.line, direction: 'out', activeLow: options.activeLow, sysRoot: options.sysRoot, waitMs: options.waitMs })
    this.description = this.gpio.description
    this.clock = options.clock ?? systemClock
  }

  async start (): Promise<void> {
    await this.gpio.open()
  }

  async set (pattern: LedPattern): Promise<void> {
    this.clock.clearTimeout(this.timer)
    this.timer = undefined
    this.current = pattern
    if (isDark(pattern) || isSteadyOn(pattern)) {
      this.gpio.write(isDark(pattern) ? 0 : 1)
      return
    }
    this.phase(1)
  }

  async close (): Promise<void> {
    this.clock.clearTimeout(this.timer)
    this.timer = undefined
    const release = isDark(this.current)
    if (release) this.gpio.write(0)
    await this.gpio.close(release)
  }

  private phase (value: 0 | 1): void {
    this.gpio.write(value)
    const pattern = this.current
    this.timer = this.clock.setTimeout(() => { this.phase(value === 1 ? 0 : 1) }, value === 1 ? pattern.onMs : pattern.offMs)
  }
}
