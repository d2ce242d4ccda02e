import test from 'ava'
import { chmodSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { HardwareError } from '../../appliance/hardware/errors.js'
import { GpioCdevButton } from '../../appliance/hardware/gpio-cdev-button.js'
import { GpioCdevLed } from '../../appliance/hardware/gpio-cdev-led.js'
import { parseGpioLine } from '../../appliance/hardware/gpio-line.js'
import { gpiomonArgs, gpiosetArgs, parseGpiodVersion, parseGpiomonLine } from '../../appliance/hardware/gpiod-tools.js'
import { hashingPattern, PATTERNS } from '../../appliance/status/led-pattern.js'
import { tempDir } from '../helpers/temp-dir.js'
import { eventually } from './eventually.js'

test('gpioset holds the line at 1 or 0, and blinks with --toggle on/off', (t) => {
  const line = parseGpioLine('GPIO17')
  t.deepEqual(gpiosetArgs(line, PATTERNS.seeding, false), ['--consumer=evertorrent', 'GPIO17=1'])
  t.deepEqual(gpiosetArgs(line, PATTERNS.off, false), ['--consumer=evertorrent', 'GPIO17=0'])
  t.deepEqual(gpiosetArgs(line, PATTERNS.attention, true), ['--consumer=evertorrent', '--active-low', '--toggle=100ms,100ms', 'GPIO17=1'])
  t.deepEqual(gpiosetArgs(parseGpioLine('gpiochip0:17'), hashingPattern(0.5), false), ['--consumer=evertorrent', '--chip=gpiochip0', '--toggle=1500ms,1500ms', '17=1'])
})

test('gpiomon watches both edges with pull-up, active-low and debounce, printing the edge and its time', (t) => {
  t.deepEqual(gpiomonArgs(parseGpioLine('27'), true), ['--consumer=evertorrent', '--bias=pull-up', '--active-low', '--debounce-period=10ms', '--format=%e %S', 'GPIO27'])
  t.deepEqual(gpiomonArgs(parseGpioLine('27'), false), ['--consumer=evertorrent', '--bias=pull-down', '--debounce-period=10ms', '--format=%e %S', 'GPIO27'])
})

test('gpiomon lines parse to an edge and milliseconds', (t) => {
  t.deepEqual(parseGpiomonLine('1 12345.678901234'), { active: true, timeMs: 12_345_678.901234 })
  t.deepEqual(parseGpiomonLine('2 12347.000000000'), { active: false, timeMs: 12_347_000 })
  t.is(parseGpiomonLine('Monitoring line GPIO27...'), undefined)
})

test('the libgpiod major version comes from --version', (t) => {
  t.is(parseGpiodVersion('gpioset (libgpiod) v2.1.3\nCopyright (C) 2017-2023 Bartosz Golaszewski'), 2)
  t.is(parseGpiodVersion('gpioset (libgpiod) v1.6.3'), 1)
  t.is(parseGpiodVersion('nonsense'), undefined)
})

/** A stand-in for a libgpiod tool: answers --version, logs its PID and arguments, then runs until killed. */
function fakeTool (dir: string, name: string, options: { version?: string, output?: string, fail?: string } = {}): { path: string, calls: () => Array<{ pid: number, args: string }> } {
  const path = join(dir, name)
  const log = join(dir, `${name}.log`)
  writeFileSync(log, '')
  writeFileSync(path, [
    '#!/bin/sh',
    `if [ "$1" = "--version" ]; then echo "${name} (libgpiod) ${options.version ?? 'v2.1.3'}"; exit 0; fi`,
    `echo "$$ $*" >> '${log}'`,
    options.fail === undefined ? '' : `echo '${options.fail}' >&2; exit 1`,
    options.output === undefined ? '' : `printf '${options.output}'`,
    'exec sleep 60',
    ''
  ].join('\n'))
  chmodSync(path, 0o755)
  const calls = (): Array<{ pid: number, args: string }> => readFileSync(log, 'utf8').split('\n').filter((line) => line !== '').map((line) => {
    const space = line.indexOf(' ')
    return { pid: Number(line.slice(0, space)), args: line.slice(space + 1) }
  })
  return { path, calls }
}

function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

test('the cdev LED runs one gpioset per pattern and ends the previous one', async (t) => {
  const dir = tempDir(t)
  const gpioset = fakeTool(dir, 'gpioset')
  const led = new GpioCdevLed({ line: parseGpioLine('GPIO17'), activeLow: false, tools: { gpioset: gpioset.path, gpiomon: 'unused' }, settleMs: 20 })
  t.teardown(async () => { await led.close() })
  await led.start()
  await led.set(PATTERNS.booting)
  await led.set(PATTERNS.seeding)
  await eventually(t, () => gpioset.calls().length, 2)
  const calls = gpioset.calls()
  t.deepEqual(calls.map((call) => call.args), ['--consumer=evertorrent --toggle=500ms,500ms GPIO17=1', '--consumer=evertorrent GPIO17=1'])
  t.false(alive(calls[0]!.pid), 'the blinking gpioset was ended')
  t.true(alive(calls[1]!.pid))
  await led.close()
  t.false(alive(calls[1]!.pid), 'closing ends the last one')
})

test('a gpioset that fails at once fails set() with what it said', async (t) => {
  const gpioset = fakeTool(tempDir(t), 'gpioset', { fail: 'gpioset: unable to request lines on chip /dev/gpiochip0: Device or resource busy' })
  const led = new GpioCdevLed({ line: parseGpioLine('GPIO17'), activeLow: false, tools: { gpioset: gpioset.path, gpiomon: 'unused' } })
  await led.start()
  const error = await t.throwsAsync(led.set(PATTERNS.seeding), { instanceOf: HardwareError })
  t.is(error?.code, 'ET_HW_EXITED')
  t.regex(error?.message ?? '', /Device or resource busy/)
  await led.close()
})

test('libgpiod v1 tools are refused with advice; a missing tool is ET_HW_MISSING', async (t) => {
  const dir = tempDir(t)
  const old = fakeTool(dir, 'gpioset', { version: 'v1.6.3' })
  const v1 = await t.throwsAsync(new GpioCdevLed({ line: parseGpioLine('17'), activeLow: false, tools: { gpioset: old.path, gpiomon: 'unused' } }).start(), { instanceOf: HardwareError })
  t.is(v1?.code, 'ET_HW_UNSUPPORTED')
  t.regex(v1?.message ?? '', /sysfs-led/)
  const missing = await t.throwsAsync(new GpioCdevButton({ line: parseGpioLine('27'), activeLow: true, tools: { gpioset: 'unused', gpiomon: join(dir, 'nowhere') } }).start(), { instanceOf: HardwareError })
  t.is(missing?.code, 'ET_HW_MISSING')
})

test('the cdev button turns gpiomon lines into presses and releases with the kernel times', async (t) => {
  const gpiomon = fakeTool(tempDir(t), 'gpiomon', { output: 'Monitoring line GPIO27...\\n1 100.000000000\\n2 102.500000000\\n' })
  const button = new GpioCdevButton({ line: parseGpioLine('GPIO27'), activeLow: true, tools: { gpioset: 'unused', gpiomon: gpiomon.path } })
  const events: string[] = []
  button.on('press', (at) => events.push(`press ${at}`))
  button.on('release', (at) => events.push(`release ${at}`))
  const warnings: HardwareError[] = []
  button.on('warning', (error) => warnings.push(error))
  t.teardown(async () => { await button.close() })
  await button.start()
  await eventually(t, () => events, ['press 100000', 'release 102500'])
  t.is(gpiomon.calls()[0]!.args, '--consumer=evertorrent --bias=pull-up --active-low --debounce-period=10ms --format=%e %S GPIO27')
  const pid = gpiomon.calls()[0]!.pid
  await button.close()
  t.false(alive(pid))
  t.deepEqual(warnings, [], 'being closed is no warning')
})

test('a gpiomon that ends by itself is a warning', async (t) => {
  const gpiomon = fakeTool(tempDir(t), 'gpiomon')
  const button = new GpioCdevButton({ line: parseGpioLine('GPIO27'), activeLow: true, tools: { gpioset: 'unused', gpiomon: gpiomon.path } })
  const warnings: HardwareError[] = []
  button.on('warning', (error) => warnings.push(error))
  t.teardown(async () => { await button.close() })
  await button.start()
  await eventually(t, () => gpiomon.calls().length, 1)
  process.kill(gpiomon.calls()[0]!.pid, 'SIGKILL')
  await eventually(t, () => warnings.map((warning) => warning.code), ['ET_HW_EXITED'])
  await button.close()
})
