import { execFile } from 'node:child_process'
import { HardwareError } from './errors.js'
import type { GpioLineSpec } from './gpio-line.js'
import { isDark, isSteadyOn, type LedPattern } from '../status/led-pattern.js'

/**
 * The command-line tools of libgpiod v2 (Debian's `gpiod` package from trixie on), which use the
 * GPIO character device. v1 (bookworm's 1.6) takes other arguments and has no --toggle, so
 * blinking would mean a process per edge: it is refused, with the sysfs-led way as the advice.
 */
export interface GpiodTools {
  readonly gpioset: string
  readonly gpiomon: string
}

export const DEFAULT_GPIOD_TOOLS: GpiodTools = { gpioset: 'gpioset', gpiomon: 'gpiomon' }

const CONSUMER = '--consumer=evertorrent'

/** The line as the tools take it: Pi header pins by their line name, so no chip number is needed. */
function lineArgs (line: GpioLineSpec): { options: string[], line: string } {
  if (line.kind === 'chip') return { options: [`--chip=${line.chip}`], line: String(line.offset) }
  if (line.kind === 'bcm') return { options: [], line: `GPIO${line.bcm}` }
  return { options: [], line: line.name }
}

/** gpioset holds the line while it runs; a blinking pattern is its own --toggle, so it blinks without us. */
export function gpiosetArgs (line: GpioLineSpec, pattern: LedPattern, activeLow: boolean): string[] {
  const { options, line: name } = lineArgs(line)
  const args = [CONSUMER, ...options]
  if (activeLow) args.push('--active-low')
  if (!isDark(pattern) && !isSteadyOn(pattern)) args.push(`--toggle=${pattern.onMs}ms,${pattern.offMs}ms`)
  args.push(`${name}=${isDark(pattern) ? 0 : 1}`)
  return args
}

/** gpiomon prints one line per edge: `1` (rising, i.e. became active) or `2`, and the time in seconds. */
export function gpiomonArgs (line: GpioLineSpec, activeLow: boolean, debounceMs = 10): string[] {
  const { options, line: name } = lineArgs(line)
  return [
    CONSUMER,
    ...options,
    `--bias=${activeLow ? 'pull-up' : 'pull-down'}`,
    ...(activeLow ? ['--active-low'] : []),
    `--debounce-period=${debounceMs}ms`,
    '--format=%e %S',
    name
  ]
}

export interface GpiomonEdge {
  readonly active: boolean
  readonly timeMs: number
}

/** One line of `gpiomon --format='%e %S'`: `1 1234.567890123`. */
export function parseGpiomonLine (text: string): GpiomonEdge | undefined {
  const match = /^\s*([12])\s+(\d+)\.(\d{9})\s*$/.exec(text)
  if (match === null) return undefined
  return { active: match[1] === '1', timeMs: Number(match[2]) * 1000 + Number(match[3]) / 1e6 }
}

/** The major version in `gpioset --version`'s first line (`gpioset (libgpiod) v2.1.3`). */
export function parseGpiodVersion (text: string): number | undefined {
  const match = /\bv(\d+)\.\d+/.exec(text)
  return match === null ? undefined : Number(match[1])
}

/** Fails unless `tool` runs and is libgpiod v2 or later. */
export async function checkGpiodTool (tool: string): Promise<void> {
  const output = await new Promise<string>((resolve, reject) => {
    execFile(tool, ['--version'], { timeout: 5000 }, (error, stdout) => { error === null ? resolve(stdout) : reject(error) })
  }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') throw new HardwareError('ET_HW_MISSING', `${tool} not found — install Debian's gpiod package (v2, trixie or later)`, { path: tool, cause: error })
    throw new HardwareError('ET_HW_IO', `${tool} --version failed: ${error.message}`, { path: tool, cause: error })
  })
  const major = parseGpiodVersion(output)
  if (major === undefined || major < 2) {
    throw new HardwareError('ET_HW_UNSUPPORTED', `${tool} is libgpiod ${major === undefined ? 'of unknown version' : `v${major}`}; gpio-cdev needs v2 — use leds.driver = "sysfs-led" with the gpio-led overlay, or buttons.driver = "input" with gpio-key`, { path: tool })
  }
}
