import { EventEmitter } from 'node:events'
import type { Button, ButtonEvents } from './button.js'
import { systemClock, type Clock, type TimerHandle } from './clock.js'
import { hardwareErrorFrom } from './errors.js'
import type { GpioLineSpec } from './gpio-line.js'
import { SysfsGpio } from './gpio-sysfs.js'

export interface GpioSysfsButtonOptions {
  readonly line: GpioLineSpec
  /** Pressed when the line is low: a button to ground with a pull-up (`gpio=27=ip,pu` in config.txt). */
  readonly activeLow: boolean
  readonly sysRoot?: string
  readonly clock?: Clock
  /** How often `value` is read. */
  readonly pollMs?: number
  readonly waitMs?: number
}

/**
 * A button on a GPIO line through sysfs, read every `pollMs`. sysfs signals edges through poll(2)
 * with POLLPRI, which Node cannot wait for without a native addon, so this polls; a change counts
 * once two reads in a row agree, which also debounces. Times come from the clock.
 */
export class GpioSysfsButton extends EventEmitter<ButtonEvents> implements Button {
  readonly description: string
  private readonly gpio: SysfsGpio
  private readonly clock: Clock
  private readonly pollMs: number
  private timer: TimerHandle | undefined
  private stable: 0 | 1 = 0
  private candidate: 0 | 1 = 0
  private closed = false

  constructor (options: GpioSysfsButtonOptions) {
    super()
    this.gpio = new SysfsGpio({ line: options.line, direction: 'in', activeLow: options.activeLow, sysRoot: options.sysRoot, waitMs: options.waitMs })
    this.description = this.gpio.description
    this.clock = options.clock ?? systemClock
    this.pollMs = options.pollMs ?? 20
  }

  async start (): Promise<void> {
    await this.gpio.open()
    this.stable = this.candidate = this.gpio.read()
    this.schedule()
  }

  async close (): Promise<void> {
    this.closed = true
    this.clock.clearTimeout(this.timer)
    await this.gpio.close(true)
  }

  private schedule (): void {
    if (!this.closed) this.timer = this.clock.setTimeout(() => { this.poll() }, this.pollMs)
  }

  private poll (): void {
    let value: 0 | 1
    try {
      value = this.gpio.read()
    } catch (error) {
      this.emit('warning', hardwareErrorFrom(error, this.description, 'button'))
      return
    }
    if (value === this.candidate && value !== this.stable) {
      this.stable = value
      this.emit(value === 1 ? 'press' : 'release', this.clock.now())
    }
    this.candidate = value
    this.schedule()
  }
}
