import { closeSync, openSync, readSync, writeSync } from 'node:fs'
import { access, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { HardwareError, hardwareErrorFrom } from './errors.js'
import { describeGpioLine, type GpioLineSpec } from './gpio-line.js'
import { readAttribute, writeAttribute } from './sysfs-attribute.js'

/**
 * Labels of the gpiochip that carries the 40-pin header, most specific first: the RP1 on the
 * Pi 5, the BCM2711 on the Pi 4 and 400, the BCM2835 family on the Pi 1 to 3 and Zero.
 */
export const HEADER_CHIP_LABELS = ['pinctrl-rp1', 'pinctrl-bcm2711', 'pinctrl-bcm2835'] as const

export interface GpioChipInfo {
  readonly base: number
  readonly ngpio: number
  readonly label: string
}

/**
 * The sysfs number of a header GPIO: the header chip's base plus the BCM number. Since the 6.6
 * kernels the base is no longer 0 (512 on a Pi 4, 571 for the RP1 on a Pi 5), so GPIO17 is
 * /sys/class/gpio/gpio529 there, and 17 only on old kernels.
 */
export function sysfsNumberFor (bcm: number, chips: readonly GpioChipInfo[]): number {
  const header = HEADER_CHIP_LABELS.map((label) => chips.find((chip) => chip.label === label)).find((chip) => chip !== undefined) ??
    (chips.length === 1 ? chips[0] : undefined)
  if (header === undefined) {
    const found = chips.length === 0 ? 'no GPIO chips' : chips.map((chip) => `${chip.label} at ${chip.base}`).join(', ')
    throw new HardwareError('ET_HW_MISSING', `cannot tell which sysfs GPIO chip is the header (found ${found}) — use gpio-cdev, or a kernel LED via the gpio-led overlay`)
  }
  if (bcm >= header.ngpio) throw new HardwareError('ET_HW_CONFIG', `GPIO${bcm} is past the ${header.ngpio} lines of ${header.label}`)
  return header.base + bcm
}

export async function listGpioChips (gpioRoot: string): Promise<GpioChipInfo[]> {
  let entries: string[]
  try {
    entries = await readdir(gpioRoot)
  } catch (error) {
    throw hardwareErrorFrom(error, gpioRoot, 'sysfs GPIO (the kernel may be built without CONFIG_GPIO_SYSFS; use gpio-cdev)')
  }
  const chips: GpioChipInfo[] = []
  for (const entry of entries.filter((name) => /^gpiochip\d+$/.test(name)).sort()) {
    const dir = join(gpioRoot, entry)
    chips.push({
      base: Number(await readAttribute(join(dir, 'base'), 'GPIO chip')),
      ngpio: Number(await readAttribute(join(dir, 'ngpio'), 'GPIO chip')),
      label: await readAttribute(join(dir, 'label'), 'GPIO chip')
    })
  }
  return chips
}

export interface SysfsGpioOptions {
  readonly line: GpioLineSpec
  readonly direction: 'in' | 'out'
  /** The line is active (LED lit, button pressed) when it is low. */
  readonly activeLow: boolean
  readonly sysRoot?: string
  /** How long to wait for gpioN/ to appear after export, and for udev to give it to the gpio group. */
  readonly waitMs?: number
}

/**
 * One GPIO line through the deprecated sysfs interface (/sys/class/gpio), what the `onoff` package
 * does: export, direction, active_low, then read or write `value`. The value file stays open so
 * that blinking and polling cost one syscall each. Values are logical (1 = active).
 */
export class SysfsGpio {
  readonly description: string
  private readonly gpioRoot: string
  private readonly waitMs: number
  private number: number | undefined
  private exported = false
  private fd: number | undefined

  constructor (private readonly options: SysfsGpioOptions) {
    this.description = `gpio-sysfs ${describeGpioLine(options.line)}`
    this.gpioRoot = join(options.sysRoot ?? '/sys', 'class', 'gpio')
    this.waitMs = options.waitMs ?? 1000
  }

  async open (): Promise<void> {
    const number = await this.sysfsNumber()
    const dir = join(this.gpioRoot, `gpio${number}`)
    if (!await exists(dir)) {
      await writeAttribute(join(this.gpioRoot, 'export'), String(number), 'GPIO export')
      this.exported = true
    }
    this.number = number
    // `high`/`low` set an output with a raw (physical) first level: the inactive one, so an LED starts dark.
    await writeAttribute(join(dir, 'active_low'), this.options.activeLow ? '1' : '0', 'GPIO active_low', this.waitMs)
    await writeAttribute(join(dir, 'direction'), this.options.direction === 'out' ? (this.options.activeLow ? 'high' : 'low') : 'in', 'GPIO direction', this.waitMs)
    const valuePath = join(dir, 'value')
    try {
      this.fd = openSync(valuePath, this.options.direction === 'out' ? 'r+' : 'r')
    } catch (error) {
      throw hardwareErrorFrom(error, valuePath, 'GPIO value')
    }
  }

  read (): 0 | 1 {
    const buffer = Buffer.alloc(2)
    readSync(this.openFd(), buffer, 0, 2, 0)
    return buffer[0] === 0x31 ? 1 : 0
  }

  write (value: 0 | 1): void {
    writeSync(this.openFd(), value === 1 ? '1' : '0', 0)
  }

  /** Closes the value file; unexports the line if it was exported here and `release` is true. */
  async close (release: boolean): Promise<void> {
    if (this.fd !== undefined) closeSync(this.fd)
    this.fd = undefined
    if (release && this.exported) {
      await writeAttribute(join(this.gpioRoot, 'unexport'), String(this.number), 'GPIO unexport')
      this.exported = false
    }
  }

  private openFd (): number {
    if (this.fd === undefined) throw new HardwareError('ET_HW_IO', `${this.description} is not open`)
    return this.fd
  }

  private async sysfsNumber (): Promise<number> {
    const line = this.options.line
    if (line.kind !== 'bcm') throw new HardwareError('ET_HW_CONFIG', `gpio-sysfs needs a BCM number such as 17 or GPIO17, not ${describeGpioLine(line)}`)
    return sysfsNumberFor(line.bcm, await listGpioChips(this.gpioRoot))
  }
}

async function exists (path: string): Promise<boolean> {
  return await access(path).then(() => true, () => false)
}
