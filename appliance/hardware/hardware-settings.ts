import type { Button } from './button.js'
import type { Clock } from './clock.js'
import { HardwareError } from './errors.js'
import { GpioCdevButton } from './gpio-cdev-button.js'
import { GpioCdevLed } from './gpio-cdev-led.js'
import { parseGpioLine } from './gpio-line.js'
import type { GestureThresholds } from './gestures.js'
import { GpioSysfsButton } from './gpio-sysfs-button.js'
import { GpioSysfsLed } from './gpio-sysfs-led.js'
import type { GpiodTools } from './gpiod-tools.js'
import { InputButton } from './input-button.js'
import type { InputEventLayout } from './input-event.js'
import type { Led } from './led.js'
import { SysfsLed } from './sysfs-led.js'
import { VirtualLed } from './virtual-led.js'

export const LED_DRIVERS = ['virtual', 'sysfs-led', 'gpio-sysfs', 'gpio-cdev'] as const
export const BUTTON_DRIVERS = ['none', 'input', 'gpio-sysfs', 'gpio-cdev'] as const

/** The hardware keys of the settings table, as the service's `Settings` has them. */
export interface HardwareSettings {
  readonly 'leds.driver': string
  readonly 'leds.device': string
  readonly 'leds.active_low': boolean
  readonly 'buttons.driver': string
  readonly 'buttons.device': string
  readonly 'buttons.keycode': number
  readonly 'buttons.active_low': boolean
  readonly 'buttons.long_press_ms': number
  readonly 'buttons.very_long_press_ms': number
}

/** Where the drivers find the machine; tests point these at fakes. */
export interface HardwareEnvironment {
  /** The sysfs root, `/sys`. */
  readonly sysRoot?: string
  readonly clock?: Clock
  readonly gpiodTools?: GpiodTools
  readonly inputLayout?: InputEventLayout
}

export function ledFromSettings (settings: HardwareSettings, env: HardwareEnvironment = {}): Led {
  const driver = settings['leds.driver']
  const device = settings['leds.device']
  const activeLow = settings['leds.active_low']
  switch (driver) {
    case 'virtual': return new VirtualLed()
    case 'sysfs-led': return new SysfsLed({ name: device, sysRoot: env.sysRoot })
    case 'gpio-sysfs': return new GpioSysfsLed({ line: parseGpioLine(device), activeLow, sysRoot: env.sysRoot, clock: env.clock })
    case 'gpio-cdev': return new GpioCdevLed({ line: parseGpioLine(device), activeLow, tools: env.gpiodTools })
    default: throw unknownDriver('leds.driver', driver, LED_DRIVERS)
  }
}

export function buttonFromSettings (settings: HardwareSettings, env: HardwareEnvironment = {}): Button | undefined {
  const driver = settings['buttons.driver']
  const device = settings['buttons.device']
  const activeLow = settings['buttons.active_low']
  switch (driver) {
    case 'none': return undefined
    case 'input': return new InputButton({ device, keycode: settings['buttons.keycode'], layout: env.inputLayout })
    case 'gpio-sysfs': return new GpioSysfsButton({ line: parseGpioLine(device), activeLow, sysRoot: env.sysRoot, clock: env.clock })
    case 'gpio-cdev': return new GpioCdevButton({ line: parseGpioLine(device), activeLow, tools: env.gpiodTools })
    default: throw unknownDriver('buttons.driver', driver, BUTTON_DRIVERS)
  }
}

export function thresholdsFromSettings (settings: HardwareSettings): GestureThresholds {
  const longMs = settings['buttons.long_press_ms']
  const veryLongMs = settings['buttons.very_long_press_ms']
  if (veryLongMs <= longMs) {
    throw new HardwareError('ET_HW_CONFIG', `buttons.very_long_press_ms (${veryLongMs}) must be longer than buttons.long_press_ms (${longMs})`, { path: 'buttons.very_long_press_ms' })
  }
  return { longMs, veryLongMs }
}

function unknownDriver (key: string, driver: string, known: readonly string[]): HardwareError {
  return new HardwareError('ET_HW_CONFIG', `${key} is ${JSON.stringify(driver)}; expected one of ${known.map((name) => JSON.stringify(name)).join(', ')}`, { path: key })
}
