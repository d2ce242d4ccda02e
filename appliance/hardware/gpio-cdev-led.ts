import { ChildTool } from './child-tool.js'
import { describeGpioLine, type GpioLineSpec } from './gpio-line.js'
import { checkGpiodTool, DEFAULT_GPIOD_TOOLS, gpiosetArgs, type GpiodTools } from './gpiod-tools.js'
import type { Led } from './led.js'
import type { LedPattern } from '../status/led-pattern.js'

export interface GpioCdevLedOptions {
  readonly line: GpioLineSpec
  readonly activeLow: boolean
  readonly tools?: GpiodTools
  /** How long a new gpioset must keep running before the pattern counts as shown. */
  readonly settleMs?: number
}

/**
 * An LED on a GPIO line through the character device, held by libgpiod v2's `gpioset`, which
 * blinks it with --toggle. A new pattern replaces the process (the line is released for that
 * moment); closing ends it and releases the line.
 */
export class GpioCdevLed implements Led {
  readonly description: string
  private readonly tools: GpiodTools
  private child: ChildTool | undefined

  constructor (private readonly options: GpioCdevLedOptions) {
    this.description = `gpio-cdev ${describeGpioLine(options.line)}`
    this.tools = options.tools ?? DEFAULT_GPIOD_TOOLS
  }

  async start (): Promise<void> {
    await checkGpiodTool(this.tools.gpioset)
  }

  async set (pattern: LedPattern): Promise<void> {
    await this.child?.stop()
    this.child = undefined
    this.child = await ChildTool.start(this.tools.gpioset, gpiosetArgs(this.options.line, pattern, this.options.activeLow), { settleMs: this.options.settleMs ?? 100 })
  }

  async close (): Promise<void> {
    await this.child?.stop()
    this.child = undefined
  }
}
