import { existsSync, mkdirSync, readFileSync, rmSync, watch, writeFileSync, type FSWatcher } from 'node:fs'
import { join } from 'node:path'

const TRIGGERS = ['none', 'kbd-scrolllock', 'timer', 'oneshot', 'heartbeat', 'default-on', 'mmc0', 'actpwr']

export interface LedState {
  /** The selected trigger, as the bracketed entry of `trigger`. */
  readonly trigger: string
  readonly brightness: string
  readonly delayOn?: string
  readonly delayOff?: string
}

export interface FakeGpioState {
  readonly direction: string
  readonly value: string
  readonly activeLow: string
}

/**
 * A sysfs tree in a temp folder that behaves like the kernel where our drivers depend on it:
 * writing `timer` to an LED's trigger makes delay_on/delay_off (500 ms each) and any other
 * trigger removes them; brightness 0 ends a trigger; writing N to gpio/export makes gpioN/
 * (direction `in`, value 0) and to unexport removes it; direction `high`/`low` reads back as `out`. Those happen a moment after the write, as
 * udev's permission changes do on a real system, so the drivers' waiting is exercised too. What
 * it cannot fake: electrical levels (`value` is the logical value) and refusals (EBUSY, EINVAL).
 */
export class FakeSysfs {
  private readonly watchers: FSWatcher[] = []

  constructor (readonly root: string) {}

  ledDir (name: string): string {
    return join(this.root, 'class', 'leds', name)
  }

  addLed (name: string, options: { maxBrightness?: number, trigger?: string } = {}): void {
    const dir = this.ledDir(name)
    mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, 'max_brightness'), `${options.maxBrightness ?? 1}\n`)
    writeFileSync(join(dir, 'brightness'), '0\n')
    writeFileSync(join(dir, 'trigger'), triggerList(options.trigger ?? 'none'))
    this.watchFile(join(dir, 'trigger'), (written) => { this.onTrigger(dir, written) })
    this.watchFile(join(dir, 'brightness'), (written) => {
      if (written === '0' && this.led(name).trigger !== 'none') this.onTrigger(dir, 'none')
    })
  }

  led (name: string): LedState {
    return readLedState(this.ledDir(name))
  }

  gpioRoot (): string {
    return join(this.root, 'class', 'gpio')
  }

  /** A gpiochip as the kernel lists it: `gpiochip<base>` with base, ngpio, label. */
  addGpioChip (base: number, ngpio: number, label: string): void {
    const gpio = this.gpioRoot()
    const dir = join(gpio, `gpiochip${base}`)
    mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, 'base'), `${base}\n`)
    writeFileSync(join(dir, 'ngpio'), `${ngpio}\n`)
    writeFileSync(join(dir, 'label'), `${label}\n`)
    if (existsSync(join(gpio, 'export'))) return
    writeFileSync(join(gpio, 'export'), '')
    writeFileSync(join(gpio, 'unexport'), '')
    this.watchFile(join(gpio, 'export'), (written) => {
      writeFileSync(join(gpio, 'export'), '')
      const line = join(gpio, `gpio${written}`)
      if (existsSync(line)) return
      mkdirSync(line)
      writeFileSync(join(line, 'direction'), 'in\n')
      writeFileSync(join(line, 'value'), '0\n')
      writeFileSync(join(line, 'active_low'), '0\n')
      writeFileSync(join(line, 'edge'), 'none\n')
      this.watchFile(join(line, 'direction'), (direction) => {
        if (direction !== 'high' && direction !== 'low') return
        // `high`/`low` make an output at that raw level; `value` reads it through active_low.
        const activeLow = readFileSync(join(line, 'active_low'), 'utf8').trim() === '1'
        writeFileSync(join(line, 'value'), `${(direction === 'high') !== activeLow ? 1 : 0}\n`)
        writeFileSync(join(line, 'direction'), 'out\n')
      })
    })
    this.watchFile(join(gpio, 'unexport'), (written) => {
      writeFileSync(join(gpio, 'unexport'), '')
      rmSync(join(gpio, `gpio${written}`), { recursive: true, force: true })
    })
  }

  gpio (number: number): FakeGpioState | undefined {
    const dir = join(this.gpioRoot(), `gpio${number}`)
    if (!existsSync(dir)) return undefined
    const read = (file: string): string => readFileSync(join(dir, file), 'utf8').trim()
    return { direction: read('direction'), value: read('value'), activeLow: read('active_low') }
  }

  /** Sets a GPIO input as the outside world would (a button pressed: 1 when active). */
  setGpioValue (number: number, value: 0 | 1): void {
    writeFileSync(join(this.gpioRoot(), `gpio${number}`, 'value'), `${value}\n`)
  }

  close (): void {
    for (const watcher of this.watchers) watcher.close()
  }

  private onTrigger (dir: string, written: string): void {
    if (written.includes('[')) return
    const trigger = TRIGGERS.includes(written) ? written : 'none'
    writeFileSync(join(dir, 'trigger'), triggerList(trigger))
    if (trigger === 'timer') {
      writeFileSync(join(dir, 'delay_on'), '500\n')
      writeFileSync(join(dir, 'delay_off'), '500\n')
    } else {
      rmSync(join(dir, 'delay_on'), { force: true })
      rmSync(join(dir, 'delay_off'), { force: true })
    }
  }

  /** Calls `onWrite` with each new content of `file` (a write lands as truncate + write; the empty moment between is skipped). */
  private watchFile (file: string, onWrite: (content: string) => void): void {
    let last = readFileSync(file, 'utf8').trim()
    const watcher = watch(file, () => {
      let content: string
      try {
        content = readFileSync(file, 'utf8').trim()
      } catch {
        return
      }
      if (content === '') last = ''
      if (content === '' || content === last) return
      last = content
      onWrite(content)
    })
    this.watchers.push(watcher)
  }
}

function triggerList (selected: string): string {
  return `${TRIGGERS.map((name) => name === selected ? `[${name}]` : name).join(' ')}\n`
}

/** What an LED class directory shows, read the same way from the fake and from a real /sys/class/leds/NAME. */
export function readLedState (dir: string): LedState {
  const read = (file: string): string | undefined => existsSync(join(dir, file)) ? readFileSync(join(dir, file), 'utf8').trim() : undefined
  const trigger = /\[([^\]]+)\]/.exec(read('trigger') ?? '')?.[1] ?? `unprocessed: ${read('trigger')}`
  const delayOn = read('delay_on')
  const delayOff = read('delay_off')
  return { trigger, brightness: read('brightness')!, ...(delayOn !== undefined && { delayOn }), ...(delayOff !== undefined && { delayOff }) }
}

/**
 * What a person would see, from an LED's state: `blink ON/OFF` under the timer trigger (the
 * brightness file flips while it blinks, so it is left out), `lit N` or `dark` under none.
 */
export function ledShows (state: LedState): string {
  if (state.trigger === 'timer') return `blink ${state.delayOn ?? '?'}/${state.delayOff ?? '?'}`
  if (state.trigger === 'none') return state.brightness === '0' ? 'dark' : `lit ${state.brightness}`
  return `trigger ${state.trigger}`
}
