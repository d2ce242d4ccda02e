// The reduced check of the Raspberry Pi image recipe (image/), for CI: everything that can be tested
// without building the arm64 root filesystem or booting it. The full build and the qemu boot test
// are `npm run image` and `npm run test:image` (docs/image.md).
import test, { type ExecutionContext } from 'ava'
import { chmod, cp, mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { sourcePath } from '../helpers/repo.js'
import { run } from '../helpers/run.js'
import { tempDir } from '../helpers/temp-dir.js'

const image = sourcePath('image/')
const bootSettings = join(image, 'rootfs/usr/local/sbin/evertorrent-boot-settings')

async function bashScripts (): Promise<string[]> {
  const top = (await readdir(image)).filter((name) => name.endsWith('.sh')).map((name) => join(image, name))
  const lib = (await readdir(join(image, 'lib'))).map((name) => join(image, 'lib', name))
  return [...top, ...lib]
}

test('every script of the recipe parses (bash -n, sh -n)', async (t) => {
  const scripts = await bashScripts()
  t.true(scripts.length >= 7)
  for (const script of scripts) {
    const result = await run('bash', ['-n', script])
    t.is(result.exitCode, 0, `${script}: ${result.stderr}`)
  }
  for (const name of ['evertorrent-boot-settings', 'evertorrent-grow-root']) {
    const result = await run('sh', ['-n', join(image, 'rootfs/usr/local/sbin', name)])
    t.is(result.exitCode, 0, `${name}: ${result.stderr}`)
  }
})

test('systemd-analyze verify: the mount unit and the units the image adds', async (t) => {
  // A root with systemd's own units (for the targets they name) and the programs they run.
  const root = tempDir(t)
  await cp('/usr/lib/systemd/system', join(root, 'usr/lib/systemd/system'), { recursive: true })
  await cp(sourcePath('config/evertorrent-mount@.service'), join(root, 'usr/lib/systemd/system/evertorrent-mount@.service'))
  await cp(sourcePath('config/evertorrent-mount'), join(root, 'usr/lib/evertorrent/evertorrent-mount'))
  await cp(join(image, 'rootfs/usr/local/sbin'), join(root, 'usr/local/sbin'), { recursive: true })
  await cp(join(image, 'rootfs/etc/systemd/system'), join(root, 'etc/systemd/system'), { recursive: true })
  const result = await run('systemd-analyze', ['--root', root, 'verify',
    'evertorrent-mount@sda1.service', 'evertorrent-boot-settings.service', 'evertorrent-grow-root.service'])
  t.is(result.exitCode, 0, result.stderr)
  t.is(result.stderr.trim(), '')
})

test('raspi-firmware settings and fstab name the partitions of one disk identifier', async (t) => {
  const root = tempDir(t)
  await mkdir(join(root, 'etc/default'), { recursive: true })
  await writeFile(join(root, 'etc/default/raspi-firmware'), '#ROOTPART=/dev/mmcblk0p2\n')
  const result = await run('bash', ['-c', 'source "$1"; write_raspi_firmware_settings "$2" 0a1b2c3d; write_fstab "$2" 0a1b2c3d',
    'test', join(image, 'lib/raspi-boot.sh'), root])
  t.is(result.exitCode, 0, result.stderr)
  // Sourced by raspi-firmware's hook as shell: the last assignment wins.
  const settings = await run('sh', ['-c', '. "$1"; echo "$ROOTPART|$CONSOLES|$CMA"', 'test', join(root, 'etc/default/raspi-firmware')])
  t.is(settings.stdout.trim(), 'PARTUUID=0a1b2c3d-02|tty0 ttyS1,115200|0')
  const fstab = (await readFile(join(root, 'etc/fstab'), 'utf8')).split('\n').filter((line) => !line.startsWith('#') && line !== '')
  t.deepEqual(fstab.map((line) => line.split(/\s+/).slice(0, 3)), [
    ['PARTUUID=0a1b2c3d-02', '/', 'ext4'],
    ['PARTUUID=0a1b2c3d-01', '/boot/firmware', 'vfat']
  ])
})

test('make-disk.sh writes an MBR image with the boot files on FAT32 and the tree on ext4, without root', async (t) => {
  const dir = tempDir(t)
  await mkdir(join(dir, 'root/etc'), { recursive: true })
  await writeFile(join(dir, 'root/etc/hostname'), 'evertorrent\n')
  await mkdir(join(dir, 'boot/overlays'), { recursive: true })
  await writeFile(join(dir, 'boot/cmdline.txt'), 'root=PARTUUID=0a1b2c3d-02 rootwait\n')
  await writeFile(join(dir, 'boot/overlays/README'), 'overlays\n')
  const disk = join(dir, 'disk.img')
  const made = await run(join(image, 'make-disk.sh'), [join(dir, 'root'), join(dir, 'boot'), '0a1b2c3d', disk],
    { env: { ...process.env, EVERTORRENT_IMAGE_OUT: dir }, timeoutMs: 60_000 })
  t.is(made.exitCode, 0, made.stderr)

  const table = (await run('sfdisk', ['--dump', disk])).stdout
  t.regex(table, /^label: dos$/m)
  t.regex(table, /^label-id: 0x0a1b2c3d$/m)
  t.regex(table, /1 : start= *8192, size= *1048576, type=c, bootable$/m)
  t.regex(table, /2 : start= *1056768, size= *\d+, type=83$/m)

  const env = { ...process.env, MTOOLS_SKIP_CHECK: '1' }
  const boot = `${disk}@@${8192 * 512}`
  t.is((await run('mtype', ['-i', boot, '::cmdline.txt'], { env })).stdout, 'root=PARTUUID=0a1b2c3d-02 rootwait\n')
  t.is((await run('mtype', ['-i', boot, '::overlays/README'], { env })).stdout, 'overlays\n')
  t.regex((await run('mlabel', ['-s', '-i', boot, '::'], { env })).stdout, /RASPIFIRM/)

  const rootFs = `${disk}?offset=${1056768 * 512}`
  t.is((await run('debugfs', ['-R', 'cat /etc/hostname', rootFs])).stdout, 'evertorrent\n')
  t.regex((await run('dumpe2fs', ['-h', rootFs])).stdout, /volume name:\s+RASPIROOT/)
})

/** A boot partition and a root for evertorrent-boot-settings, with fakes of the programs it runs. */
async function bootSettingsWorld (t: ExecutionContext): Promise<{ boot: string, root: string, calls: string, apply: () => Promise<string> }> {
  const dir = tempDir(t)
  const boot = join(dir, 'boot')
  const root = join(dir, 'root')
  const bin = join(dir, 'bin')
  const calls = join(dir, 'calls')
  await mkdir(boot)
  await mkdir(join(root, 'etc/ssh'), { recursive: true })
  await mkdir(bin)
  await writeFile(join(root, 'etc/hostname'), 'evertorrent\n')
  await writeFile(join(root, 'etc/hosts'), '127.0.0.1\tlocalhost\n127.0.1.1\tevertorrent\n')
  await writeFile(calls, '')
  const fakes: Record<string, string> = {
    chpasswd: `echo "chpasswd $* <$(cat)" >>${calls}`,
    'ssh-keygen': `echo "ssh-keygen $*" >>${calls}; touch "$3/etc/ssh/ssh_host_ed25519_key"`,
    wpa_passphrase: 'printf \'network={\\n\\tssid="%s"\\n\\t#psk="%s"\\n\\tpsk=%s\\n}\\n\' "$1" "$2" "$(printf %064d 7)"',
    evertorrent: `echo "evertorrent $*" >>${calls}; if grep -q bad "$2"; then echo "$2: unknown key \\"bad\\""; exit 1; fi`
  }
  for (const [name, body] of Object.entries(fakes)) {
    await writeFile(join(bin, name), `#!/bin/sh\n${body}\n`)
    await chmod(join(bin, name), 0o755)
  }
  const apply = async (): Promise<string> => {
    const result = await run(bootSettings, [], { env: { ...process.env, BOOT: boot, ROOT: root, PATH: `${bin}:${process.env.PATH ?? ''}` } })
    t.is(result.exitCode, 0, result.stderr)
    return result.stderr
  }
  return { boot, root, calls, apply }
}

test('boot settings: sysconf.txt sets hostname, root key and password, Wi-Fi; secrets leave the FAT', async (t) => {
  const { boot, root, calls, apply } = await bootSettingsWorld(t)
  await writeFile(join(boot, 'sysconf.txt'), [
    '# a comment', 'hostname=Shelf-Box', 'root_authorized_key=ssh-ed25519 AAAAkey me@laptop', 'root_pw=s3cret word',
    'wifi_country=de', 'wifi_ssid=Home "Net"', 'wifi_psk=correct horse', ''
  ].join('\r\n'))
  await apply()
  t.is(await readFile(join(root, 'etc/hostname'), 'utf8'), 'shelf-box\n')
  t.regex(await readFile(join(root, 'etc/hosts'), 'utf8'), /^127\.0\.1\.1\tshelf-box$/m)
  t.is(await readFile(join(root, 'root/.ssh/authorized_keys'), 'utf8'), 'ssh-ed25519 AAAAkey me@laptop\n')
  const wifi = await readFile(join(root, 'etc/wpa_supplicant/wpa_supplicant-wlan0.conf'), 'utf8')
  t.regex(wifi, /^country=DE$/m)
  t.regex(wifi, new RegExp(`^\tssid=${Buffer.from('Home "Net"').toString('hex')}$`, 'm'))
  t.regex(wifi, /^\tpsk=0{63}7$/m)
  t.notRegex(wifi, /correct horse/)
  const sysconf = await readFile(join(boot, 'sysconf.txt'), 'utf8')
  t.notRegex(sysconf, /s3cret|correct horse/)
  t.regex(sysconf, /^#root_pw= \(applied on/m)
  t.regex(sysconf, /^hostname=Shelf-Box/m)
  t.regex(await readFile(calls, 'utf8'), new RegExp(`^chpasswd -R ${root} <root:s3cret word$`, 'm'))

  // The next boot: nothing is applied twice.
  await writeFile(calls, '')
  await apply()
  t.is(await readFile(join(root, 'root/.ssh/authorized_keys'), 'utf8'), 'ssh-ed25519 AAAAkey me@laptop\n')
  t.is(await readFile(calls, 'utf8'), '')
})

test('boot settings: a bad hostname or a short Wi-Fi passphrase changes nothing', async (t) => {
  const { boot, root, apply } = await bootSettingsWorld(t)
  await writeFile(join(boot, 'sysconf.txt'), 'hostname=-bad_name\nwifi_ssid=Home\nwifi_psk=short\n')
  const messages = await apply()
  t.is(await readFile(join(root, 'etc/hostname'), 'utf8'), 'evertorrent\n')
  t.regex(messages, /hostname "-bad_name" is not a valid host name/)
  t.regex(messages, /wifi_psk must have 8 to 63 characters/)
  await t.throwsAsync(readFile(join(root, 'etc/wpa_supplicant/wpa_supplicant-wlan0.conf')))
  t.notRegex(await readFile(join(boot, 'sysconf.txt'), 'utf8'), /short/)
})

test('boot settings: evertorrent.toml is installed once checked, and only when it changed', async (t) => {
  const { boot, root, calls, apply } = await bootSettingsWorld(t)
  await writeFile(join(boot, 'evertorrent.toml'), '[http]\r\nport = 8080\r\n')
  await apply()
  const installed = join(root, 'etc/evertorrent/config.toml')
  t.is(await readFile(installed, 'utf8'), '[http]\nport = 8080\n')
  t.regex(await readFile(calls, 'utf8'), new RegExp(`^evertorrent check-config ${boot}/evertorrent.toml$`, 'm'))

  // Edited over SSH since: an unchanged file on the boot partition does not undo that.
  await writeFile(installed, '[http]\nport = 8081\n')
  await apply()
  t.is(await readFile(installed, 'utf8'), '[http]\nport = 8081\n')

  // A rejected file: the config in use stays, and the boot partition says why.
  await writeFile(join(boot, 'evertorrent.toml'), '[http]\nbad = 1\n')
  await apply()
  t.is(await readFile(installed, 'utf8'), '[http]\nport = 8081\n')
  t.regex(await readFile(join(boot, 'evertorrent-config-error.txt'), 'utf8'), /unknown key "bad"/)

  await writeFile(join(boot, 'evertorrent.toml'), '[http]\nport = 8082\n')
  await apply()
  t.is(await readFile(installed, 'utf8'), '[http]\nport = 8082\n')
  await t.throwsAsync(readFile(join(boot, 'evertorrent-config-error.txt')))
})

test('boot settings: SSH host keys are made once, and no sysconf.txt is fine', async (t) => {
  const { root, calls, apply } = await bootSettingsWorld(t)
  await apply()
  t.is(await readFile(calls, 'utf8'), `ssh-keygen -A -f ${root}\n`)
  await writeFile(calls, '')
  await apply()
  t.is(await readFile(calls, 'utf8'), '')
  t.is(await readFile(join(root, 'etc/hostname'), 'utf8'), 'evertorrent\n')
})

test('the gpio-led and gpio-key overlays compile and apply to a device tree with a gpio label', async (t) => {
  const dir = tempDir(t)
  // The shape the overlays need from Debian's Pi device trees: a `gpio` label, exported with -@.
  await writeFile(join(dir, 'base.dts'), '/dts-v1/;\n/ {\n\t#address-cells = <1>;\n\t#size-cells = <1>;\n' +
    '\tgpio: gpio@7e200000 {\n\t\treg = <0x7e200000 0xb4>;\n\t\tgpio-controller;\n\t\t#gpio-cells = <2>;\n\t};\n};\n')
  t.is((await run('dtc', ['-@', '-q', '-I', 'dts', '-O', 'dtb', '-o', join(dir, 'base.dtb'), join(dir, 'base.dts')])).exitCode, 0)
  const overlays = []
  for (const name of ['gpio-led', 'gpio-key']) {
    const compiled = await run('dtc', ['-@', '-q', '-I', 'dts', '-O', 'dtb', '-o', join(dir, `${name}.dtbo`), join(image, 'overlays', `${name}.dts`)])
    t.is(compiled.exitCode, 0, compiled.stderr)
    overlays.push(join(dir, `${name}.dtbo`))
  }
  const applied = await run('fdtoverlay', ['-i', join(dir, 'base.dtb'), '-o', join(dir, 'applied.dtb'), ...overlays])
  t.is(applied.exitCode, 0, applied.stderr)
  const get = async (...args: string[]): Promise<string> => (await run('fdtget', [...args])).stdout.trim()
  const gpioPhandle = await get(join(dir, 'applied.dtb'), '/gpio@7e200000', 'phandle')
  t.is(await get('-ts', join(dir, 'applied.dtb'), '/evertorrent-leds/led', 'label'), 'evertorrent')
  t.is(await get(join(dir, 'applied.dtb'), '/evertorrent-leds/led', 'gpios'), `${gpioPhandle} 17 0`)
  t.is(await get(join(dir, 'applied.dtb'), '/evertorrent-keys/key', 'gpios'), `${gpioPhandle} 27 1`)
  t.is(await get(join(dir, 'applied.dtb'), '/evertorrent-keys/key', 'linux,code'), '148')
})
