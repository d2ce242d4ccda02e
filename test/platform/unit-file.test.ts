import { execFile } from 'node:child_process'
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import test from 'ava'
import { descriptorBudget, otherDescriptors } from '../../appliance/net/descriptor-budget.js'
import { defaultSettings } from '../../appliance/config/settings.js'
import { sourcePath } from '../helpers/repo.js'
import { tempDir } from '../helpers/temp-dir.js'

const run = promisify(execFile)
const unitText = readFileSync(sourcePath('config/evertorrent.service'), 'utf8')

/** systemd's version here, e.g. 252 (Debian bookworm; the appliance runs trixie's 257). */
async function systemdVersion (): Promise<number> {
  const { stdout } = await run('systemd-analyze', ['--version'])
  return Number(/^systemd (\d+)/.exec(stdout)![1])
}

/**
 * The unit as this machine's systemd-analyze can check it: Type=notify-reload (systemd >= 253) read
 * as Type=notify by an older systemd, which would otherwise only warn and ignore the line.
 */
async function checkableUnit (folder: string): Promise<string> {
  const path = join(folder, 'evertorrent.service')
  writeFileSync(path, await systemdVersion() >= 253 ? unitText : unitText.replace(/^Type=notify-reload$/m, 'Type=notify'))
  return path
}

test('systemd-analyze verify finds nothing to say about evertorrent.service (Debian package: systemd)', async (t) => {
  const unit = await checkableUnit(tempDir(t))
  // verify checks that ExecStart's binary exists; node does here too. Any message at all fails the test.
  const { stdout, stderr } = await run('systemd-analyze', ['verify', '--man=no', unit])
  t.is(`${stdout}${stderr}`, '')
})

test('the unit is Type=notify-reload with a watchdog, runs the installed CLI as its own user, and its exposure stays low', async (t) => {
  t.regex(unitText, /^Type=notify-reload$/m)
  t.regex(unitText, /^NotifyAccess=all$/m)
  t.regex(unitText, /^WatchdogSec=\d+s$/m)
  t.regex(unitText, /^ExecStart=\/usr\/bin\/node --max-old-space-size=\d+ \/usr\/lib\/evertorrent\/dist\/appliance\/cli\.js serve --config \/etc\/evertorrent\/config\.toml$/m)
  t.regex(unitText, /^User=evertorrent$/m)
  t.notRegex(unitText, /^ExecReload=/m, 'notify-reload sends SIGHUP itself and waits for READY=1')
  const { stdout } = await run('systemd-analyze', ['security', '--offline=yes', '--no-pager', await checkableUnit(tempDir(t))])
  const exposure = Number(/Overall exposure level for \S+: (\d+\.\d+)/.exec(stdout)![1])
  t.log(`systemd-analyze security: exposure ${exposure}`)
  t.true(exposure <= 2.5, `exposure ${exposure}`)
})

test('LimitNOFILE fits the default connection limits, the descriptor reserve and the rest on a 4-core Pi', (t) => {
  const limit = Number(/^LimitNOFILE=(\d+)$/m.exec(unitText)?.[1])
  t.true(limit > 0, 'the unit sets LimitNOFILE=')
  const defaults = defaultSettings()
  const budget = descriptorBudget({
    openFilesLimit: limit,
    httpConnections: defaults['http.max_connections'],
    peerConnections: defaults['seeder.max_connections'],
    reserve: defaults['system.fd_reserve'],
    other: otherDescriptors({ maxOpenFiles: defaults['seeder.max_open_files'], hashingThreads: 4 })
  })
  t.false(budget.lowered, `${budget.needed} descriptors needed, ${limit} allowed`)
  t.true(limit <= 4 * budget.needed, 'and not so many more that a raised limit could run into MemoryMax unnoticed')
})

test('the LED rule opens brightness, trigger and the timer attributes to group evertorrent, and skips missing ones', async (t) => {
  const rules = readFileSync(sourcePath('config/99-evertorrent-leds.rules'), 'utf8')
  const run_ = /SUBSYSTEM=="leds", ACTION=="add\|change", RUN\+="(.*)"$/m.exec(rules)![1]!
  // What udev would run for a fake LED: %S%p is the device's sysfs folder, $$ a literal $. The group
  // is this process's own, as the test cannot count on a group evertorrent.
  const root = tempDir(t)
  const led = join(root, 'devices', 'platform', 'leds', 'leds', 'ACT')
  mkdirSync(led, { recursive: true })
  for (const attribute of ['brightness', 'trigger', 'max_brightness']) {
    writeFileSync(join(led, attribute), '0')
    chmodSync(join(led, attribute), 0o644)
  }
  const group = (await run('id', ['-gn'])).stdout.trim()
  const command = run_.replaceAll('%S%p', led).replaceAll('$$', '$').replaceAll('chgrp evertorrent', `chgrp ${group}`)
  const [shell, flag, script] = command.match(/^(\S+) (-c) '(.*)'$/)!.slice(1) as [string, string, string]
  await run(shell, [flag, script])
  t.is(statSync(join(led, 'brightness')).mode & 0o070, 0o060)
  t.is(statSync(join(led, 'trigger')).mode & 0o070, 0o060)
  t.is(statSync(join(led, 'max_brightness')).mode & 0o070, 0o040, 'left alone')
})
