import { EventEmitter } from 'node:events'
import type { StatusModel, StatusSnapshot } from '../status/status-model.js'
import type { Button } from './button.js'
import { systemClock, type Clock, type TimerHandle } from './clock.js'
import { HardwareError } from './errors.js'
import { gestureFor, GestureRecognizer, nextStageAfter, type Gesture, type GestureThresholds, type HoldStage } from './gestures.js'
import { buttonFromSettings, ledFromSettings, thresholdsFromSettings, type HardwareEnvironment, type HardwareSettings } from './hardware-settings.js'
import type { Led } from './led.js'
import { looksSame, PATTERNS, type LedPattern } from '../status/led-pattern.js'
import { activityEndsAt, patternFor } from '../status/pattern-for.js'
import { VirtualLed } from './virtual-led.js'

/** What the buttons need from the service: the same commands the web page uses. */
export interface HardwareCommands {
  rescan: () => Promise<void>
  /** Unmounts every drive so it is safe to pull; the status model says so once done. */
  eject: () => Promise<void>
  /** Shuts the machine down cleanly. */
  shutdown: () => Promise<void>
}

export type StatusSource = Pick<StatusModel, 'snapshot' | 'on' | 'off'>

export interface HardwareControllerOptions {
  readonly status: StatusSource
  readonly commands: HardwareCommands
  readonly settings: HardwareSettings
  readonly env?: HardwareEnvironment
}

export interface HardwareControllerEvents {
  /** An LED or button problem, or a failed command; the controller goes on without what failed. */
  warning: [error: HardwareError]
  /** A button gesture, as it is recognised and before its command runs. */
  gesture: [gesture: Gesture]
  /** The status LED's pattern changed (for the status page, which draws the same). */
  pattern: [pattern: LedPattern]
}

/**
 * The LED and button layer: shows the status model on the status LED, turns button presses into
 * commands, and shows the held button's stage on the LED so the person knows when to let go.
 * Hardware that is missing or fails is reported as a warning and left out; the service goes on.
 */
export class HardwareController extends EventEmitter<HardwareControllerEvents> {
  private led: Led
  private readonly button: Button | undefined
  private readonly status: StatusSource
  private readonly commands: HardwareCommands
  private readonly thresholds: GestureThresholds
  private readonly recognizer: GestureRecognizer
  private readonly clock: Clock
  private current: LedPattern = PATTERNS.off
  private shown: LedPattern | undefined
  private writing: Promise<void> = Promise.resolve()
  private ledFailing = false
  private hold: HoldStage | undefined
  private pressSeenAt = 0
  private holdTimer: TimerHandle | undefined
  private activityTimer: TimerHandle | undefined
  private shuttingDown = false
  private started = false
  private closed = false
  private readonly onChange = (snapshot: StatusSnapshot): void => { this.update(snapshot) }

  /** Throws a HardwareError (ET_HW_CONFIG) for settings that cannot work; hardware is only touched by start(). */
  constructor (options: HardwareControllerOptions) {
    super()
    this.status = options.status
    this.commands = options.commands
    this.clock = options.env?.clock ?? systemClock
    this.thresholds = thresholdsFromSettings(options.settings)
    this.recognizer = new GestureRecognizer(this.thresholds)
    this.led = ledFromSettings(options.settings, options.env)
    this.button = buttonFromSettings(options.settings, options.env)
  }

  /** The status LED's pattern now, whatever the driver. */
  get pattern (): LedPattern {
    return this.current
  }

  get ledDescription (): string {
    return this.led.description
  }

  async start (): Promise<void> {
    this.started = true
    try {
      await this.led.start()
    } catch (error) {
      this.warn(error, `${this.led.description}: cannot start the LED; showing the status on the status page only`)
      this.led = new VirtualLed()
    }
    this.status.on('change', this.onChange)
    this.update()
    await this.writing
    await this.startButton()
  }

  /** Stops reading the button; switches the LED off, unless a shutdown asked by the button is under way. */
  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    if (!this.started) return
    this.status.off('change', this.onChange)
    this.clock.clearTimeout(this.holdTimer)
    this.clock.clearTimeout(this.activityTimer)
    if (this.button !== undefined) await this.button.close().catch((error: unknown) => { this.warn(error, `${this.button!.description}: cannot close`) })
    if (!this.shuttingDown) this.show(PATTERNS.off)
    await this.writing
    await this.led.close().catch((error: unknown) => { this.warn(error, `${this.led.description}: cannot release the LED`) })
  }

  private async startButton (): Promise<void> {
    const button = this.button
    if (button === undefined) return
    button.on('press', (at) => { this.onPress(at) })
    button.on('release', (at) => { this.onRelease(at) })
    button.on('warning', (error) => {
      this.emit('warning', error)
      this.recognizer.reset()
      this.endHold()
    })
    try {
      await button.start()
    } catch (error) {
      button.removeAllListeners()
      this.warn(error, `${button.description}: cannot start the button; it is ignored`)
    }
  }

  private onPress (at: number): void {
    if (this.closed || !this.recognizer.press(at)) return
    this.pressSeenAt = this.clock.now()
    this.advanceHold()
  }

  /** Shows the stage the held button has reached, and comes back when it reaches the next one. */
  private advanceHold (): void {
    const heldMs = this.clock.now() - this.pressSeenAt
    const stage = gestureFor(heldMs, this.thresholds)
    this.hold = stage
    this.update()
    const next = nextStageAfter(stage, this.thresholds)
    if (next !== undefined) this.holdTimer = this.clock.setTimeout(() => { this.advanceHold() }, next - heldMs)
  }

  private onRelease (at: number): void {
    if (this.closed) return
    const gesture = this.recognizer.release(at, this.hold ?? 'short')
    // Set before the LED leaves the held feedback, so that it goes straight to `stopping`.
    if (gesture === 'very-long') this.shuttingDown = true
    this.endHold()
    if (gesture === undefined) return
    this.emit('gesture', gesture)
    void this.run(gesture)
  }

  private endHold (): void {
    this.clock.clearTimeout(this.holdTimer)
    this.holdTimer = undefined
    this.hold = undefined
    if (!this.closed) this.update()
  }

  private async run (gesture: Gesture): Promise<void> {
    const name = gesture === 'short' ? 'rescan' : gesture === 'long' ? 'eject' : 'shutdown'
    try {
      await this.commands[name]()
    } catch (error) {
      this.shuttingDown = false
      this.emit('warning', new HardwareError('ET_HW_COMMAND', `the button's ${name} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error }))
    }
    if (!this.closed) this.update()
  }

  private update (snapshot: StatusSnapshot = this.status.snapshot()): void {
    const now = this.clock.now()
    this.show(patternFor(snapshot, now, { hold: this.hold, shuttingDown: this.shuttingDown }))
    this.clock.clearTimeout(this.activityTimer)
    const endsAt = activityEndsAt(snapshot, now)
    this.activityTimer = endsAt === undefined ? undefined : this.clock.setTimeout(() => { this.update() }, endsAt - now)
  }

  private show (pattern: LedPattern): void {
    if (pattern.name !== this.current.name || pattern.onMs !== this.current.onMs || pattern.offMs !== this.current.offMs) {
      this.current = pattern
      this.emit('pattern', pattern)
    }
    this.writing = this.writing.then(async () => { await this.write() })
  }

  /** Puts the latest pattern on the LED, unless the LED already looks like it; a failure is reported once until a write works. */
  private async write (): Promise<void> {
    const pattern = this.current
    if (this.shown !== undefined && looksSame(this.shown, pattern)) return
    try {
      await this.led.set(pattern)
      this.shown = pattern
      this.ledFailing = false
    } catch (error) {
      this.shown = undefined
      if (!this.ledFailing) this.warn(error, `${this.led.description}: cannot show ${pattern.name}`)
      this.ledFailing = true
    }
  }

  private warn (error: unknown, context: string): void {
    this.emit('warning', error instanceof HardwareError ? error : new HardwareError('ET_HW_IO', `${context}: ${error instanceof Error ? error.message : String(error)}`, { cause: error }))
  }
}
