import test, { type ExecutionContext } from 'ava'
import { join } from 'node:path'
import { PATTERNS } from '../../appliance/status/led-pattern.js'
import { selectedTrigger, SysfsLed } from '../../appliance/hardware/sysfs-led.js'
import { HardwareError } from '../../appliance/hardware/errors.js'
import { tempDir } from '../helpers/temp-dir.js'
import { eventually } from './eventually.js'
import { FakeSysfs, ledShows, readLedState } from './fake-sysfs.js'

/**
 * The LED class contract: what the driver leaves in the LED's directory for each kind of pattern,
 * and that closing hands a switched-off LED back to its first trigger. The fake sysfs tree is held to
 * it here; on a Pi the same function can be pointed at a real LED (`/sys`, `ACT`).
 */
async function ledClassContract (t: ExecutionContext, sysRoot: string, name: string, maxBrightness: string): Promise<void> {
  const dir = join(sysRoot, 'class', 'leds', name)
  const original = readLedState(dir).trigger
  const led = new SysfsLed({ name, sysRoot })
  await led.start()

  const shows = (): string => ledShows(readLedState(dir))
  await led.set(PATTERNS.booting)
  await eventually(t, shows, 'blink 500/500', 'blinking is the kernel timer')
  await led.set(PATTERNS.attention)
  await eventually(t, shows, 'blink 100/100')
  await led.set(PATTERNS.seeding)
  await eventually(t, shows, `lit ${maxBrightness}`, 'steady light is trigger none at max_brightness')
  await led.set(PATTERNS.off)
  await eventually(t, shows, 'dark')
  await led.close()
  await eventually(t, () => readLedState(dir).trigger, original, 'closing hands the dark LED back to its first trigger')
}

test('kernel LED class contract, against the fake sysfs tree', async (t) => {
  const sys = new FakeSysfs(tempDir(t))
  t.teardown(() => sys.close())
  sys.addLed('ACT', { maxBrightness: 255, trigger: 'mmc0' })
  await ledClassContract(t, sys.root, 'ACT', '255')
})

test('an LED that blinks when closed keeps blinking: the kernel does it after we are gone', async (t) => {
  const sys = new FakeSysfs(tempDir(t))
  t.teardown(() => sys.close())
  sys.addLed('evertorrent')
  const led = new SysfsLed({ name: 'evertorrent', sysRoot: sys.root })
  await led.start()
  await led.set(PATTERNS.stopping)
  await led.close()
  await eventually(t, () => ledShows(sys.led('evertorrent')), 'blink 50/450')
})

test('a missing LED is ET_HW_MISSING, naming the LEDs there are', async (t) => {
  const sys = new FakeSysfs(tempDir(t))
  t.teardown(() => sys.close())
  sys.addLed('ACT')
  sys.addLed('PWR')
  const error = await t.throwsAsync(new SysfsLed({ name: 'evertorrent', sysRoot: sys.root }).start(), { instanceOf: HardwareError })
  t.is(error?.code, 'ET_HW_MISSING')
  t.regex(error?.message ?? '', /ACT, PWR/)
})

test('the selected trigger is the bracketed one', (t) => {
  t.is(selectedTrigger('none rc-feedback [mmc0] timer'), 'mmc0')
  t.is(selectedTrigger('[none] timer'), 'none')
  t.is(selectedTrigger('none timer'), undefined)
})
