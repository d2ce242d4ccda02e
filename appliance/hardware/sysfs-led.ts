import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { HardwareError } from './errors.js'
import type { Led } from './led.js'
import { isDark, isSteadyOn, PATTERNS, type LedPattern } from '../status/led-pattern.js'
import { readAttribute, writeAttribute } from './sysfs-attribute.js'

export interface SysfsLedOptions {
  /** The LED's name under /sys/class/leds: a gpio-led overlay's label, `ACT`/`PWR` (`led0`/`led1` on older kernels). */
  readonly name: string
  readonly sysRoot?: string
  /** How long to wait for attributes that appear after a write, and for udev to open them up. */
  readonly waitMs?: number
}

/**
 * A kernel LED class device (/sys/class/leds/NAME). Steady light is trigger `none` and a
 * brightness; blinking is trigger `timer` with delay_on/delay_off, so the kernel blinks it and
 * the blink goes on while the event loop is busy and after the process has exited.
 */
export class SysfsLed implements Led {
  readonly description: string
  private readonly name: string
  private readonly dir: string
  private readonly waitMs: number
  private maxBrightness = 1
  private originalTrigger: string | undefined
  /** The trigger as we last set it; undefined when unknown (before the first set, after a failure). */
  private trigger: string | undefined
  private current: LedPattern = PATTERNS.off

  constructor (options: SysfsLedOptions) {
    this.name = options.name
    this.description = `sysfs-led ${options.name}`
    this.dir = join(options.sysRoot ?? '/sys', 'class', 'leds', options.name)
    this.waitMs = options.waitMs ?? 1000
  }

  async start (): Promise<void> {
    let max: string
    try {
      max = await readAttribute(join(this.dir, 'max_brightness'), 'LED')
    } catch (error) {
      if (error instanceof HardwareError && error.code === 'ET_HW_MISSING') throw await this.missing(error)
      throw error
    }
    this.maxBrightness = Math.max(1, Number.parseInt(max, 10) || 1)
    this.originalTrigger = selectedTrigger(await readAttribute(join(this.dir, 'trigger'), 'LED trigger'))
  }

  async set (pattern: LedPattern): Promise<void> {
    try {
      if (isDark(pattern) || isSteadyOn(pattern)) {
        await this.setTrigger('none')
        await this.write('brightness', isDark(pattern) ? '0' : String(this.maxBrightness))
      } else {
        // Writing `timer` again would restart the trigger at 500/500 and glitch the blink: new delays are enough.
        if (this.trigger !== 'timer') await this.setTrigger('timer')
        await this.write('delay_on', String(pattern.onMs))
        await this.write('delay_off', String(pattern.offMs))
      }
    } catch (error) {
      this.trigger = undefined
      throw error
    }
    this.current = pattern
  }

  async close (): Promise<void> {
    if (!isDark(this.current) || this.originalTrigger === undefined || this.originalTrigger === 'none') return
    await this.setTrigger(this.originalTrigger)
  }

  private async setTrigger (trigger: string): Promise<void> {
    await this.write('trigger', trigger)
    this.trigger = trigger
  }

  private async write (attribute: string, value: string): Promise<void> {
    await writeAttribute(join(this.dir, attribute), value, `LED ${attribute}`, this.waitMs)
  }

  private async missing (cause: HardwareError): Promise<HardwareError> {
    const leds = await readdir(join(this.dir, '..')).catch(() => [])
    const known = leds.length === 0 ? 'there are no LEDs in /sys/class/leds' : `LEDs here: ${leds.sort().join(', ')}`
    return new HardwareError('ET_HW_MISSING', `no LED ${JSON.stringify(this.name)} (${known}) — set leds.device, or add dtoverlay=gpio-led to config.txt`, { path: this.dir, cause })
  }
}

/** The trigger shown in brackets in the `trigger` attribute (`none [mmc0] timer` → `mmc0`). */
export function selectedTrigger (attribute: string): string | undefined {
  return /\[([^\]]+)\]/.exec(attribute)?.[1]
}
