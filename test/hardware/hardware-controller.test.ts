import test, { type ExecutionContext } from 'ava'
import { execFileSync } from 'node:child_process'
import { closeSync, openSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import type { HardwareError } from '../../appliance/hardware/errors.js'
import { HardwareController, type HardwareCommands } from '../../appliance/hardware/hardware-controller.js'
import type { HardwareSettings } from '../../appliance/hardware/hardware-settings.js'
import { KEY_PROG1 } from '../../appliance/hardware/input-event.js'
import type { PatternName } from '../../appliance/status/led-pattern.js'
import { StatusModel } from '../../appliance/status/status-model.js'
import { tempDir } from '../helpers/temp-dir.js'
import { eventually } from './eventually.js'
import { FakeClock } from './fake-clock.js'
import { FakeSysfs, ledShows } from './fake-sysfs.js'
import { keyRecords } from './input-records.js'

const HASH = 'ab'.repeat(20) as never
const DRIVE = { path: '/media/usb', kind: 'drive', state: 'present' } as const
const FILM = { path: '/media/usb/film', name: 'film', library: '/media/usb' }

const DEFAULTS: HardwareSettings = {
  'leds.driver': 'virtual',
  'leds.device': 'evertorrent',
  'leds.active_low': false,
  'buttons.driver': 'none',
  'buttons.device': '/dev/input/by-path/platform-button@1b-event',
  'buttons.keycode': KEY_PROG1,
  'buttons.active_low': true,
  'buttons.long_press_ms': 2000,
  'buttons.very_long_press_ms': 8000
}

interface Rig {
  readonly sys: FakeSysfs
  readonly clock: FakeClock
  readonly status: StatusModel
  readonly controller: HardwareController
  readonly calls: string[]
  readonly warnings: HardwareError[]
  readonly patterns: PatternName[]
  /** What the LED shows: `blink 500/500`, `lit 1`, `dark`. */
  readonly led: () => string
  /** Writes a key edge into the button's event device, stamped `atMs` by the "kernel". */
  readonly key: (atMs: number, value: 0 | 1) => void
}

/** A controller on a fake sysfs LED `evertorrent` and a FIFO as its input device, with the real status model. */
function rig (t: ExecutionContext, options: { settings?: Partial<HardwareSettings>, commands?: Partial<HardwareCommands> } = {}): Rig {
  const dir = tempDir(t)
  const sys = new FakeSysfs(join(dir, 'sys'))
  sys.addLed('evertorrent')
  t.teardown(() => sys.close())
  const device = join(dir, 'event0')
  execFileSync('mkfifo', [device])
  const clock = new FakeClock()
  const status = new StatusModel(clock.now, 1)
  t.teardown(() => status.close())
  const calls: string[] = []
  const commands: HardwareCommands = {
    rescan: async () => { calls.push('rescan') },
    eject: async () => { calls.push('eject') },
    shutdown: async () => { calls.push('shutdown') },
    ...options.commands
  }
  const settings: HardwareSettings = { ...DEFAULTS, 'leds.driver': 'sysfs-led', 'buttons.driver': 'input', 'buttons.device': device, ...options.settings }
  const controller = new HardwareController({ status, commands, settings, env: { sysRoot: sys.root, clock, inputLayout: 'long64' } })
  t.teardown(async () => { await controller.close() })
  const warnings: HardwareError[] = []
  controller.on('warning', (error) => warnings.push(error))
  const patterns: PatternName[] = []
  controller.on('pattern', (pattern) => patterns.push(pattern.name))
  let writer: number | undefined
  t.teardown(() => { if (writer !== undefined) closeSync(writer) })
  const key = (atMs: number, value: 0 | 1): void => {
    writer ??= openSync(device, 'w')
    writeSync(writer, keyRecords(atMs, KEY_PROG1, value, 'long64'))
  }
  return { sys, clock, status, controller, calls, warnings, patterns, led: () => ledShows(sys.led('evertorrent')), key }
}

const blinking = (on: number, off: number): string => `blink ${on}/${off}`
const steady = (brightness: '0' | '1'): string => brightness === '0' ? 'dark' : `lit ${brightness}`

function seeding (status: StatusModel): void {
  status.setPhase('running')
  status.setLibraries([DRIVE])
  status.item({ ...FILM, state: 'seeding', infoHash: HASH, totalBytes: 1000 })
}

test('the LED file follows the service: booting, hashing, seeding, upload activity, drive pulled, shutting down', async (t) => {
  const { status, controller, clock, led, patterns, warnings } = rig(t)
  await controller.start()
  await eventually(t, led, blinking(500, 500), 'booting: 1 Hz')

  status.setPhase('running')
  status.setLibraries([DRIVE])
  status.item({ ...FILM, state: 'hashing', bytesHashed: 500, totalBytes: 1000 })
  await eventually(t, led, blinking(1500, 1500), 'hashing, half done: lit half of 3 s')

  status.item({ ...FILM, state: 'seeding', infoHash: HASH, totalBytes: 1000 })
  await eventually(t, led, steady('1'), 'seeding: steady')

  status.uploaded(HASH, 16384)
  await eventually(t, led, blinking(450, 50), 'uploading: flicker')
  clock.advance(1000)
  await eventually(t, led, steady('1'), 'a second after the last upload: steady again')

  status.setLibraries([{ ...DRIVE, state: 'removed' }])
  status.item({ ...FILM, state: 'offline', infoHash: HASH, totalBytes: 1000 })
  await eventually(t, led, blinking(100, 100), 'drive pulled: fast blink')

  status.setPhase('stopping')
  await eventually(t, led, blinking(50, 450), 'shutting down')

  await controller.close()
  await eventually(t, led, steady('0'), 'the service gone: dark')
  t.deepEqual(patterns, ['booting', 'hashing', 'seeding', 'seeding-active', 'seeding', 'attention', 'stopping', 'off'])
  t.deepEqual(warnings, [])
})

test('a short press rescans, a long one ejects, by the kernel timestamps of the press and release', async (t) => {
  const { status, controller, calls, led, key } = rig(t, { commands: { eject: async () => { calls.push('eject'); status.setSafeToRemove() } } })
  await controller.start()
  seeding(status)
  await eventually(t, led, steady('1'))

  key(10_000, 1)
  await eventually(t, led, steady('0'), 'pressed: dark, so the person sees the press')
  key(10_300, 0)
  await eventually(t, () => calls, ['rescan'])
  await eventually(t, led, steady('1'))

  key(20_000, 1)
  key(22_500, 0)
  await eventually(t, () => calls, ['rescan', 'eject'], '2.5 s between the events is long, whatever our clock says')
  await eventually(t, led, blinking(100, 900), 'ejected: safe to remove')
  status.setLibraries([DRIVE])
  await eventually(t, led, steady('1'), 'a drive mounted again ends safe-to-remove')
})

test('held, the LED says what letting go will do; a very long press shuts down and the LED keeps saying so', async (t) => {
  const { status, controller, calls, led, key, clock, patterns } = rig(t)
  await controller.start()
  seeding(status)
  await eventually(t, led, steady('1'))

  key(50_000, 1)
  await eventually(t, () => controller.pattern.name, 'pressed')
  await eventually(t, led, steady('0'))
  clock.advance(2000)
  await eventually(t, led, blinking(250, 250), 'past 2 s: let go to eject')
  clock.advance(6000)
  await eventually(t, led, blinking(50, 50), 'past 8 s: let go to shut down')
  key(58_200, 0)
  await eventually(t, () => calls, ['shutdown'])
  await eventually(t, led, blinking(50, 450), 'shutting down')
  await controller.close()
  await eventually(t, led, blinking(50, 450), 'left blinking by the kernel until the power goes')
  t.deepEqual(patterns.slice(-4), ['pressed', 'armed-eject', 'armed-shutdown', 'stopping'])
})

test('letting go just after the LED said eject ejects, even if the timestamps say a hair less', async (t) => {
  const { status, controller, calls, led, key, clock } = rig(t)
  await controller.start()
  t.is(led(), 'blink 500/500', 'start() returns with the LED showing the status')
  seeding(status)
  await eventually(t, led, steady('1'))
  key(1_000, 1)
  await eventually(t, () => controller.pattern.name, 'pressed')
  await eventually(t, led, steady('0'))
  clock.advance(2000)
  await eventually(t, led, blinking(250, 250))
  key(2_990, 0)
  await eventually(t, () => calls, ['eject'])
})

test('a failed command is a warning, and the LED goes back to the status', async (t) => {
  const { status, controller, led, key, clock, warnings } = rig(t, { commands: { shutdown: async () => { throw new Error('systemctl poweroff: access denied') } } })
  await controller.start()
  seeding(status)
  await eventually(t, led, steady('1'))
  key(0, 1)
  await eventually(t, () => controller.pattern.name, 'pressed')
  clock.advance(8000)
  key(8_100, 0)
  await eventually(t, () => warnings.map((warning) => warning.code), ['ET_HW_COMMAND'])
  t.regex(warnings[0]!.message, /shutdown failed: systemctl poweroff: access denied/)
  await eventually(t, led, steady('1'))
})

test('a missing LED and a missing input device are warnings; the pattern is still kept for the status page', async (t) => {
  const { status, controller, warnings, patterns } = rig(t, { settings: { 'leds.device': 'nope', 'buttons.device': '/nonexistent/event7' } })
  await controller.start()
  t.deepEqual(warnings.map((warning) => warning.code), ['ET_HW_MISSING', 'ET_HW_MISSING'])
  t.is(controller.ledDescription, 'virtual')
  seeding(status)
  await eventually(t, () => controller.pattern.name, 'seeding')
  t.deepEqual(patterns, ['booting', 'seeding'])
})

test('the virtual LED and no button are the defaults, touching no hardware', async (t) => {
  const status = new StatusModel(Date.now, 1)
  t.teardown(() => status.close())
  const controller = new HardwareController({ status, commands: { rescan: async () => {}, eject: async () => {}, shutdown: async () => {} }, settings: DEFAULTS, env: { sysRoot: '/nonexistent' } })
  const warnings: HardwareError[] = []
  controller.on('warning', (error) => warnings.push(error))
  await controller.start()
  t.is(controller.pattern.name, 'booting')
  t.is(controller.pattern.colour, '#ffa000')
  await controller.close()
  t.is(controller.pattern.name, 'off')
  t.deepEqual(warnings, [])
})

test('settings that cannot work are ET_HW_CONFIG at construction', (t) => {
  const make = (settings: Partial<HardwareSettings>): HardwareController => new HardwareController({
    status: new StatusModel(),
    commands: { rescan: async () => {}, eject: async () => {}, shutdown: async () => {} },
    settings: { ...DEFAULTS, ...settings }
  })
  t.is(t.throws<HardwareError>(() => make({ 'buttons.very_long_press_ms': 2000 }))?.code, 'ET_HW_CONFIG')
  t.is(t.throws<HardwareError>(() => make({ 'leds.driver': 'onoff' }))?.code, 'ET_HW_CONFIG')
  t.is(t.throws<HardwareError>(() => make({ 'leds.driver': 'gpio-sysfs', 'leds.device': 'pin 11' }))?.code, 'ET_HW_CONFIG')
})
