import test from 'ava'
import { once } from 'node:events'
import { HardwareError } from '../../appliance/hardware/errors.js'
import { parseGpioLine } from '../../appliance/hardware/gpio-line.js'
import { GpioSysfsButton } from '../../appliance/hardware/gpio-sysfs-button.js'
import { GpioSysfsLed } from '../../appliance/hardware/gpio-sysfs-led.js'
import { listGpioChips, sysfsNumberFor } from '../../appliance/hardware/gpio-sysfs.js'
import { PATTERNS } from '../../appliance/status/led-pattern.js'
import { tempDir } from '../helpers/temp-dir.js'
import { eventually } from './eventually.js'
import { FakeClock } from './fake-clock.js'
import { FakeSysfs } from './fake-sysfs.js'

/** The gpiochips of a Pi 4 on a 6.6 kernel: the header is pinctrl-bcm2711 at 512. */
function pi4 (sys: FakeSysfs): void {
  sys.addGpioChip(512, 58, 'pinctrl-bcm2711')
  sys.addGpioChip(570, 8, 'raspberrypi-exp-gpio')
}

/** The gpiochips of a Pi 5: the header is the RP1's, at 571, after the SoC's own banks. */
function pi5 (sys: FakeSysfs): void {
  sys.addGpioChip(512, 32, 'gpio-brcmstb@107d508500')
  sys.addGpioChip(544, 4, 'gpio-brcmstb@107d508520')
  sys.addGpioChip(548, 23, 'gpio-brcmstb@107d517c00')
  sys.addGpioChip(571, 54, 'pinctrl-rp1')
}

test('GPIO17 is the header chip base plus 17: 17 on old kernels, 529 on a Pi 4 with 6.6, 588 on a Pi 5', async (t) => {
  t.is(sysfsNumberFor(17, [{ base: 0, ngpio: 54, label: 'pinctrl-bcm2835' }, { base: 504, ngpio: 8, label: 'raspberrypi-exp-gpio' }]), 17)
  for (const [board, expected] of [[pi4, 529], [pi5, 588]] as const) {
    const sys = new FakeSysfs(tempDir(t))
    t.teardown(() => sys.close())
    board(sys)
    t.is(sysfsNumberFor(17, await listGpioChips(sys.gpioRoot())), expected)
  }
})

test('an unknown chip layout or a line past the chip is a clear error', (t) => {
  const unknown = t.throws(() => sysfsNumberFor(17, [{ base: 0, ngpio: 32, label: 'a' }, { base: 32, ngpio: 32, label: 'b' }]), { instanceOf: HardwareError })
  t.is(unknown?.code, 'ET_HW_MISSING')
  t.regex(unknown?.message ?? '', /a at 0, b at 32/)
  t.is(t.throws<HardwareError>(() => sysfsNumberFor(60, [{ base: 512, ngpio: 58, label: 'pinctrl-bcm2711' }]))?.code, 'ET_HW_CONFIG')
})

test('GPIO lines are written as BCM numbers, line names or chip:offset', (t) => {
  t.deepEqual(parseGpioLine('17'), { kind: 'bcm', bcm: 17 })
  t.deepEqual(parseGpioLine('GPIO17'), { kind: 'bcm', bcm: 17 })
  t.deepEqual(parseGpioLine('gpiochip4:17'), { kind: 'chip', chip: 'gpiochip4', offset: 17 })
  t.deepEqual(parseGpioLine('LED_RED'), { kind: 'name', name: 'LED_RED' })
  t.is(t.throws(() => parseGpioLine('pin 11'))?.name, 'HardwareError')
})

test('the sysfs LED exports its line as an output and blinks it with our timer; closing dark unexports', async (t) => {
  const sys = new FakeSysfs(tempDir(t))
  t.teardown(() => sys.close())
  pi4(sys)
  const clock = new FakeClock()
  const led = new GpioSysfsLed({ line: parseGpioLine('GPIO17'), activeLow: false, sysRoot: sys.root, clock })
  await led.start()
  await eventually(t, () => sys.gpio(529), { direction: 'out', value: '0', activeLow: '0' }, 'exported as an output, dark')

  await led.set(PATTERNS.seeding)
  t.is(sys.gpio(529)?.value, '1')
  await led.set(PATTERNS.booting)
  const seen: string[] = []
  for (let step = 0; step < 4; step++) {
    seen.push(sys.gpio(529)!.value)
    clock.advance(500)
  }
  t.deepEqual(seen, ['1', '0', '1', '0'])
  await led.set(PATTERNS.off)
  t.is(sys.gpio(529)?.value, '0')
  t.is(clock.timers, 0, 'no blink timer left')
  await led.close()
  await eventually(t, () => sys.gpio(529), undefined, 'unexported')
})

test('an active-low LED line gets active_low=1, so value 1 still means lit', async (t) => {
  const sys = new FakeSysfs(tempDir(t))
  t.teardown(() => sys.close())
  pi5(sys)
  const led = new GpioSysfsLed({ line: parseGpioLine('17'), activeLow: true, sysRoot: sys.root, clock: new FakeClock() })
  await led.start()
  await eventually(t, () => sys.gpio(588), { direction: 'out', value: '0', activeLow: '1' }, 'dark: the raw level is high')
  await led.set(PATTERNS.seeding)
  t.deepEqual(sys.gpio(588), { direction: 'out', value: '1', activeLow: '1' })
  await led.close()
  t.truthy(sys.gpio(588), 'a lit LED is left as it is')
})

test('the sysfs button reports a press once two polls agree, and the release likewise', async (t) => {
  const sys = new FakeSysfs(tempDir(t))
  t.teardown(() => sys.close())
  pi4(sys)
  const clock = new FakeClock()
  const button = new GpioSysfsButton({ line: parseGpioLine('GPIO27'), activeLow: true, sysRoot: sys.root, clock, pollMs: 20 })
  const events: string[] = []
  button.on('press', (at) => events.push(`press ${at - clock.now()}`))
  button.on('release', (at) => events.push(`release ${at - clock.now()}`))
  await button.start()
  t.deepEqual(sys.gpio(539), { direction: 'in', value: '0', activeLow: '1' })

  sys.setGpioValue(539, 1)
  clock.advance(20)
  t.deepEqual(events, [], 'one read is not enough: it may be a bounce')
  clock.advance(20)
  t.deepEqual(events, ['press 0'])
  sys.setGpioValue(539, 0)
  clock.advance(20)
  sys.setGpioValue(539, 1)
  clock.advance(20)
  t.deepEqual(events, ['press 0'], 'a bounce shorter than two polls is ignored')
  sys.setGpioValue(539, 0)
  clock.advance(40)
  t.deepEqual(events, ['press 0', 'release 0'])

  const closed = once(button, 'warning').then(() => 'warned', () => 'not')
  await button.close()
  await eventually(t, () => sys.gpio(539), undefined, 'unexported')
  clock.advance(100)
  t.is(await Promise.race([closed, Promise.resolve('quiet')]), 'quiet')
})
