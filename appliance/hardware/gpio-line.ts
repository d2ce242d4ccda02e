import { HardwareError } from './errors.js'

/**
 * A GPIO line as the settings name it: a BCM number (`17`), a line name (`GPIO17`, the names the
 * Raspberry Pi's device tree gives the header pins), or for the character device a chip and an
 * offset (`gpiochip0:17`).
 */
export type GpioLineSpec =
  | { readonly kind: 'bcm', readonly bcm: number }
  | { readonly kind: 'name', readonly name: string }
  | { readonly kind: 'chip', readonly chip: string, readonly offset: number }

export function parseGpioLine (text: string): GpioLineSpec {
  const trimmed = text.trim()
  if (/^\d+$/.test(trimmed)) return { kind: 'bcm', bcm: Number(trimmed) }
  const bcm = /^GPIO(\d+)$/i.exec(trimmed)
  if (bcm !== null) return { kind: 'bcm', bcm: Number(bcm[1]) }
  const chip = /^(gpiochip\d+):(\d+)$/.exec(trimmed)
  if (chip !== null) return { kind: 'chip', chip: chip[1]!, offset: Number(chip[2]) }
  if (/^[\w.-]+$/.test(trimmed)) return { kind: 'name', name: trimmed }
  throw new HardwareError('ET_HW_CONFIG', `${JSON.stringify(text)} is not a GPIO line: write a BCM number (17), a line name (GPIO17) or chip:offset (gpiochip0:17)`)
}

export function describeGpioLine (line: GpioLineSpec): string {
  if (line.kind === 'bcm') return `GPIO${line.bcm}`
  if (line.kind === 'name') return line.name
  return `${line.chip}:${line.offset}`
}
