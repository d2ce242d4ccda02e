import { EventEmitter } from 'node:events'
import { createInterface } from 'node:readline'
import type { Button, ButtonEvents } from './button.js'
import { ChildTool } from './child-tool.js'
import { describeGpioLine, type GpioLineSpec } from './gpio-line.js'
import { checkGpiodTool, DEFAULT_GPIOD_TOOLS, gpiomonArgs, parseGpiomonLine, type GpiodTools } from './gpiod-tools.js'

export interface GpioCdevButtonOptions {
  readonly line: GpioLineSpec
  /** Pressed when low: gpiomon turns on the pull-up and reads the line inverted. */
  readonly activeLow: boolean
  readonly tools?: GpiodTools
}

/**
 * A button on a GPIO line through the character device, watched by libgpiod v2's `gpiomon`
 * (bias, debounce and edge times from the kernel, CLOCK_MONOTONIC).
 */
export class GpioCdevButton extends EventEmitter<ButtonEvents> implements Button {
  readonly description: string
  private readonly tools: GpiodTools
  private child: ChildTool | undefined

  constructor (private readonly options: GpioCdevButtonOptions) {
    super()
    this.description = `gpio-cdev ${describeGpioLine(options.line)}`
    this.tools = options.tools ?? DEFAULT_GPIOD_TOOLS
  }

  async start (): Promise<void> {
    await checkGpiodTool(this.tools.gpiomon)
    const child = await ChildTool.start(this.tools.gpiomon, gpiomonArgs(this.options.line, this.options.activeLow), { stdout: true })
    this.child = child
    createInterface({ input: child.process.stdout! }).on('line', (text) => {
      const edge = parseGpiomonLine(text)
      if (edge !== undefined) this.emit(edge.active ? 'press' : 'release', edge.timeMs)
    })
    void child.exited.then(() => {
      if (child.failed) this.emit('warning', child.exitError())
    })
  }

  async close (): Promise<void> {
    await this.child?.stop()
    this.child = undefined
  }
}
