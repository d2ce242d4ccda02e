import { EventEmitter } from 'node:events'
import { closeSync, constants, openSync, readSync } from 'node:fs'
import type { Button, ButtonEvents } from './button.js'
import { hardwareErrorFrom } from './errors.js'
import { EV_KEY, INPUT_EVENT_SIZE, KEY_PRESS, KEY_RELEASE, nativeInputEventLayout, parseInputEvents, type InputEventLayout } from './input-event.js'

export interface InputButtonOptions {
  /** The event device: /dev/input/eventN, or better its stable /dev/input/by-path/… name. */
  readonly device: string
  /** The key code the button sends (the gpio-key overlay's `keycode`); 0 takes any key. */
  readonly keycode: number
  readonly layout?: InputEventLayout
  /** How often the device is read. */
  readonly pollMs?: number
}

const BATCH = 64

/**
 * A button that the kernel reports as a key on a Linux input device (the gpio-key overlay makes
 * one, debounced in the kernel). Times are the kernel's, from the events themselves, so a busy
 * event loop does not stretch a press.
 *
 * The device is opened non-blocking and read every `pollMs`: a blocking read would hold a libuv
 * thread for good and could not be interrupted by `close()` until the next key came.
 */
export class InputButton extends EventEmitter<ButtonEvents> implements Button {
  readonly description: string
  private readonly layout: InputEventLayout
  private readonly pollMs: number
  private readonly buffer: Buffer
  private pending = Buffer.alloc(0)
  private fd: number | undefined
  private timer: NodeJS.Timeout | undefined

  constructor (private readonly options: InputButtonOptions) {
    super()
    this.description = `input ${options.device}`
    this.layout = options.layout ?? nativeInputEventLayout()
    this.pollMs = options.pollMs ?? 50
    this.buffer = Buffer.alloc(INPUT_EVENT_SIZE[this.layout] * BATCH)
  }

  async start (): Promise<void> {
    try {
      this.fd = openSync(this.options.device, constants.O_RDONLY | constants.O_NONBLOCK)
    } catch (error) {
      throw hardwareErrorFrom(error, this.options.device, 'button input device')
    }
    this.timer = setInterval(() => { this.poll() }, this.pollMs).unref()
  }

  async close (): Promise<void> {
    clearInterval(this.timer)
    if (this.fd !== undefined) closeSync(this.fd)
    this.fd = undefined
  }

  private poll (): void {
    for (;;) {
      let count: number
      try {
        count = readSync(this.fd!, this.buffer, 0, this.buffer.length, null)
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EAGAIN') return
        void this.close()
        this.emit('warning', hardwareErrorFrom(error, this.options.device, 'button input device'))
        return
      }
      // 0: a FIFO or file with no writer yet; a device never returns it.
      if (count === 0) return
      this.take(this.buffer.subarray(0, count))
    }
  }

  private take (bytes: Buffer): void {
    const { events, rest } = parseInputEvents(Buffer.concat([this.pending, bytes]), this.layout)
    this.pending = Buffer.from(rest)
    for (const event of events) {
      if (event.type !== EV_KEY || (this.options.keycode !== 0 && event.code !== this.options.keycode)) continue
      // KEY_AUTOREPEAT (2) is ignored: the press already started.
      if (event.value === KEY_PRESS) this.emit('press', event.timeMs)
      if (event.value === KEY_RELEASE) this.emit('release', event.timeMs)
    }
  }
}
