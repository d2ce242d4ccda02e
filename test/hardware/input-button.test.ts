import test from 'ava'
import { execFileSync } from 'node:child_process'
import { closeSync, openSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { HardwareError } from '../../appliance/hardware/errors.js'
import { InputButton } from '../../appliance/hardware/input-button.js'
import { KEY_PROG1 } from '../../appliance/hardware/input-event.js'
import { tempDir } from '../helpers/temp-dir.js'
import { eventually } from './eventually.js'
import { keyRecords } from './input-records.js'

/** A FIFO standing in for /dev/input/eventN: the button reads it as it reads the device. */
function eventDevice (dir: string): string {
  const path = join(dir, 'event0')
  execFileSync('mkfifo', [path])
  return path
}

for (const layout of ['long64', 'long32'] as const) {
  test(`reads key presses and releases from ${layout} input_event records, with the kernel's times`, async (t) => {
    const device = eventDevice(tempDir(t))
    const button = new InputButton({ device, keycode: KEY_PROG1, layout, pollMs: 5 })
    const events: string[] = []
    button.on('press', (at) => events.push(`press ${at}`))
    button.on('release', (at) => events.push(`release ${at}`))
    await button.start()
    t.teardown(async () => { await button.close() })
    const writer = openSync(device, 'w')
    t.teardown(() => { closeSync(writer) })

    const records = Buffer.concat([
      keyRecords(1_700_000_000_250, KEY_PROG1, 1, layout),
      keyRecords(1_700_000_000_700, 30, 1, layout),
      keyRecords(1_700_000_000_750, KEY_PROG1, 2, layout),
      keyRecords(1_700_000_002_750, KEY_PROG1, 0, layout)
    ])
    // Split mid-record: a read may end anywhere.
    writeSync(writer, records.subarray(0, 37))
    await eventually(t, () => events.length, 1)
    writeSync(writer, records.subarray(37))
    await eventually(t, () => events, ['press 1700000000250', 'release 1700000002750'], 'other keys and autorepeat are ignored')
  })
}

test('keycode 0 takes any key', async (t) => {
  const device = eventDevice(tempDir(t))
  const button = new InputButton({ device, keycode: 0, layout: 'long64', pollMs: 5 })
  const presses: number[] = []
  button.on('press', (at) => presses.push(at))
  await button.start()
  t.teardown(async () => { await button.close() })
  const writer = openSync(device, 'w')
  t.teardown(() => { closeSync(writer) })
  writeSync(writer, keyRecords(1000, 30, 1, 'long64'))
  await eventually(t, () => presses, [1000])
})

test('a missing input device is ET_HW_MISSING', async (t) => {
  const button = new InputButton({ device: join(tempDir(t), 'event9'), keycode: KEY_PROG1 })
  const error = await t.throwsAsync(button.start(), { instanceOf: HardwareError })
  t.is(error?.code, 'ET_HW_MISSING')
})

test('close() returns at once while no key comes, and lets go of the device', async (t) => {
  const device = eventDevice(tempDir(t))
  const button = new InputButton({ device, keycode: KEY_PROG1, layout: 'long64', pollMs: 5 })
  await button.start()
  const writer = openSync(device, 'w')
  t.teardown(() => { closeSync(writer) })
  await button.close()
  const error = t.throws(() => writeSync(writer, keyRecords(1000, KEY_PROG1, 1, 'long64')))
  t.is((error as NodeJS.ErrnoException).code, 'EPIPE', 'no reader is left on the FIFO')
})
