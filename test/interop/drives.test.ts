import test, { type ExecutionContext } from 'ava'
import { mkdirSync, readFileSync, symlinkSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { get, type IncomingMessage } from 'node:http'
import { parseMountInfo } from '../../appliance/library/mount-table.js'
import type { StatusDocument } from '../../appliance/web/status-document.js'
import { sha256, sparseFile, writeTree } from '../helpers/content.js'
import { sourcePath } from '../helpers/repo.js'
import { runOk } from '../helpers/run.js'
import { ServeProcess } from '../helpers/serve-process.js'
import { tempDir } from '../helpers/temp-dir.js'

// Real drives: filesystem images on loop devices, mounted by the real mount helper under a temporary
// media root, watched by the real service. These need root and loop devices; without them they fail.

const mountHelper = sourcePath('config/evertorrent-mount')
const published = (line: { msg: string }): boolean => line.msg === 'published'

interface TestDrive {
  readonly loop: string
  readonly mountPoint: () => string
}

/** `links`: symbolic links to make on the drive, path → target (ext4 only: exFAT has none). */
async function makeDrive (t: ExecutionContext, root: string, fsType: 'ext4' | 'exfat', label: string, files: Record<string, number>, sparse: Record<string, number> = {}, links: Record<string, string> = {}): Promise<{ drive: TestDrive, written: Map<string, Buffer> }> {
  const content = join(root, `content-${label}`)
  const written = writeTree(content, files)
  for (const [relative, size] of Object.entries(sparse)) sparseFile(join(content, relative), size)
  for (const [relative, target] of Object.entries(links)) symlinkSync(target, join(content, relative))
  const image = join(root, `${label}.img`)
  sparseFile(image, 3 * 1024 ** 3)
  if (fsType === 'ext4') {
    await runOk('mkfs.ext4', ['-q', '-F', '-L', label, '-d', content, image])
  } else {
    await runOk('mkfs.exfat', ['-L', label, image])
    const staging = join(root, `staging-${label}`)
    mkdirSync(staging)
    // In a mount namespace of its own: a namespace another test creates meanwhile (ip netns exec,
    // unshare) would copy a staging mount made here, keep the FUSE filesystem alive after umount,
    // and leave the image unflushed (an empty root, "not unmounted cleanly").
    await runOk('unshare', ['--mount', '--propagation', 'private', 'sh', '-ec', 'mount -t exfat-fuse -o loop "$1" "$2"; trap \'umount "$2"\' EXIT; cp -a "$3/." "$2"', 'stage', image, staging, content])
  }
  const loop = (await runOk('losetup', ['--find', '--show', image])).stdout.trim()
  t.teardown(async () => {
    await runOk(mountHelper, ['remove', loop], { env: helperEnv(root) }).catch(() => {})
    await runOk('losetup', ['-d', loop]).catch(() => {})
  })
  const mountPoint = (): string => currentMounts().find((mount) => mount.source === loop)?.mountPoint ?? ''
  return { drive: { loop, mountPoint }, written }
}

function currentMounts (): ReturnType<typeof parseMountInfo> {
  return parseMountInfo(readFileSync('/proc/self/mountinfo', 'utf8'))
}

function mediaRoot (root: string): string {
  return join(root, 'media')
}

function helperEnv (root: string): NodeJS.ProcessEnv {
  return { ...process.env, EVERTORRENT_MEDIA_ROOT: mediaRoot(root) }
}

async function plug (root: string, drive: TestDrive): Promise<void> {
  await runOk(mountHelper, ['add', drive.loop], { env: helperEnv(root) })
}

async function pull (root: string, drive: TestDrive): Promise<void> {
  await runOk(mountHelper, ['remove', drive.loop], { env: helperEnv(root) })
}

async function startServe (t: ExecutionContext, root: string, settings: Record<string, unknown> = {}): Promise<ServeProcess> {
  return await ServeProcess.start(t, {
    libraries: [],
    stateDir: join(root, 'state'),
    settings: { 'library.folders': [], 'library.media_root': mediaRoot(root), ...settings },
    // For an eject command that runs the mount helper.
    env: { EVERTORRENT_MEDIA_ROOT: mediaRoot(root) }
  })
}


test.serial('drives are mounted read-only, published, taken offline when pulled and back under the same infohashes without rehashing', async (t) => {
  const root = tempDir(t)
  const music = await makeDrive(t, root, 'ext4', 'MUSIC', { 'album/01.flac': 300_000, 'album/02.flac': 200_000, 'single.bin': 100_000 })
  const photos = await makeDrive(t, root, 'exfat', 'PHOTOS', { 'pics/a.jpg': 50_000, 'pics/b/c.jpg': 70_000 })
  await plug(root, music.drive)
  await plug(root, photos.drive)
  for (const drive of [music.drive, photos.drive]) {
    const mount = currentMounts().find((entry) => entry.source === drive.loop)!
    t.true(['ro', 'nosuid', 'nodev'].every((option) => mount.options.includes(option)), `${mount.mountPoint}: ${mount.options.join(',')}`)
  }
  t.true(currentMounts().find((entry) => entry.source === music.drive.loop)!.options.includes('noexec'))

  const serve = await startServe(t, root)
  const first = await serve.waitForCount(published, 3, 60_000)
  t.deepEqual(first.map((line) => line.name).sort(), ['album', 'pics', 'single.bin'])
  const base = `http://127.0.0.1:${serve.httpPort}`
  const album = first.find((line) => line.name === 'album')!

  await pull(root, music.drive)
  await serve.waitFor((line) => line.msg === 'drives changed' && !line.drives!.includes('MUSIC'), 15_000)
  await waitUntil(async () => (await fetch(`${base}/torrents/${album.infohash}.torrent`)).status === 404, 10_000)
  t.true(serve.running)

  const before = serve.lines.length
  await plug(root, music.drive)
  const back = await serve.waitForCount((line) => published(line) && serve.lines.indexOf(line) >= before, 2, 30_000)
  t.deepEqual(back.map((line) => line.infohash).sort(), first.filter((line) => line.name !== 'pics').map((line) => line.infohash).sort())
  t.true(back.every((line) => line.resumed === 'true'), 'replugged items are not hashed again')
  t.is((await fetch(`${base}/torrents/${album.infohash}.torrent`)).status, 200)
  t.true(serve.running)
})

test.serial('a drive pulled in the middle of hashing does not crash the service; replugged, it is published', async (t) => {
  const root = tempDir(t)
  const big = await makeDrive(t, root, 'ext4', 'BIG', { 'small.bin': 10_000 }, { 'huge.img': 2 * 1024 ** 3 })
  await plug(root, big.drive)
  const serve = await startServe(t, root, { 'hashing.threads': 1 })
  await serve.waitFor((line) => line.msg === 'hashing' && line.path!.endsWith('huge.img'), 60_000)
  await pull(root, big.drive)
  await serve.waitFor((line) => line.msg === 'drives changed', 15_000)
  t.true(serve.running)
  t.false(serve.lines.some((line) => published(line) && line.name === 'huge.img'), 'the pulled item was not published')

  await plug(root, big.drive)
  const huge = await serve.waitFor((line) => published(line) && line.name === 'huge.img', 120_000)
  t.regex(huge.infohash!, /^[0-9a-f]{40}$/)
  t.true(serve.running)
})

test.serial('a drive pulled in the middle of a download: the download resumes after replugging, byte for byte', async (t) => {
  const root = tempDir(t)
  const disk = await makeDrive(t, root, 'ext4', 'VIDEO', { 'clip.bin': 24 * 1024 * 1024 })
  await plug(root, disk.drive)
  const serve = await startServe(t, root)
  const clip = await serve.waitFor(published, 60_000)
  const downloads = join(root, 'downloads')
  const aria2Args = ['--dir', downloads, '--enable-dht=false', '--enable-dht6=false', '--bt-enable-lpd=false', '--enable-peer-exchange=false',
    '--seed-time=0', '--console-log-level=warn', '--summary-interval=0', '--bt-exclude-tracker=udp://*', '--follow-torrent=true']
  // Slowed down so the drive goes away while bytes are flowing.
  const slow = spawn('aria2c', [...aria2Args, '--max-download-limit=2M', clip.torrent!], { stdio: 'ignore' })
  t.teardown(() => { slow.kill('SIGKILL') })
  await waitUntil(async () => await partialBytes(join(downloads, 'clip.bin')) > 1024 * 1024, 30_000)
  await pull(root, disk.drive)
  await serve.waitFor((line) => line.msg === 'drives changed', 15_000)
  slow.kill('SIGTERM')
  t.true(serve.running)

  const before = serve.lines.length
  await plug(root, disk.drive)
  const back = await serve.waitFor((line) => published(line) && serve.lines.indexOf(line) >= before, 30_000)
  t.is(back.infohash, clip.infohash)
  t.is(back.resumed, 'true')
  await runOk('aria2c', [...aria2Args, '--continue=true', '--stop=90', clip.torrent!], { timeoutMs: 120_000 })
  t.is(sha256(await readFile(join(downloads, 'clip.bin'))), sha256(disk.written.get('clip.bin')!))
  t.true(serve.running)
})

/** The first document of `/api/events` (snapshot or delta) that `match`es; rejects after 15 s. */
async function firstEvent (url: string, signal: AbortSignal, match: (document: Omit<StatusDocument, 'items'>) => boolean): Promise<Omit<StatusDocument, 'items'>> {
  const timeout = AbortSignal.timeout(15_000)
  try {
    const [response] = await once(get(url, { signal: AbortSignal.any([signal, timeout]) }), 'response') as [IncomingMessage]
    let text = ''
    for await (const chunk of response.setEncoding('utf8')) {
      text += chunk as string
      const complete = text.slice(0, text.lastIndexOf('\n\n') + 2)
      text = text.slice(complete.length)
      for (const data of complete.matchAll(/^data: (.*)$/gm)) {
        const document = JSON.parse(data[1]!) as StatusDocument
        if (match(document)) return document
      }
    }
  } catch (error) {
    if (timeout.aborted) throw new Error(`no matching event from ${url} within 15 s`)
    throw error
  }
  throw new Error(`${url} ended before a matching event`)
}

async function partialBytes (path: string): Promise<number> {
  try {
    const bytes = await readFile(path)
    return bytes.reduce((count, byte) => count + (byte === 0 ? 0 : 1), 0)
  } catch {
    return 0
  }
}

async function waitUntil (check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out')
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}

test.serial('a stranger\'s drive cannot publish the box\'s own files through links, nor through a "publish" link', async (t) => {
  const root = tempDir(t)
  const box = join(root, 'box')
  writeTree(box, { 'evertorrent.toml': '[web]\nadmin_token = "do not publish"\n', 'secrets/keys.txt': 'private' })
  const stranger = await makeDrive(t, root, 'ext4', 'STRANGER', { 'album/01.flac': 100_000 }, {}, {
    'box-config': join(box, 'evertorrent.toml'),
    'box-folder': box,
    'album-link': 'album'
  })
  // With library.publish_folder_only, a "publish" folder would be the drive's only library.
  const tricky = await makeDrive(t, root, 'ext4', 'TRICKY', { 'other.bin': 50_000 }, {}, { publish: box })
  await plug(root, stranger.drive)
  await plug(root, tricky.drive)
  const serve = await startServe(t, root, { 'library.publish_folder_only': true })

  const refused = await serve.waitForCount((line) => line.msg === 'cannot publish', 3, 60_000)
  t.deepEqual(refused.map((line) => [line.path!.slice(line.path!.lastIndexOf('/') + 1), line.code]).sort(), [['box-config', 'ET_OUTSIDE_LIBRARY'], ['box-folder', 'ET_OUTSIDE_LIBRARY'], ['publish', 'ET_OUTSIDE_LIBRARY']])
  const publishedLines = await serve.waitForCount(published, 3, 60_000)
  t.deepEqual(publishedLines.map((line) => line.name).sort(), ['album', 'album-link', 'other.bin'], 'a link inside the drive is published')
  const status = await (await fetch(`http://127.0.0.1:${serve.httpPort}/api/status`)).json() as { items: Array<{ name: string, state: string, error?: { code: string } }> }
  t.deepEqual(status.items.filter((item) => item.state === 'error').map((item) => [item.name, item.error?.code]).sort(), [['box-config', 'ET_OUTSIDE_LIBRARY'], ['box-folder', 'ET_OUTSIDE_LIBRARY'], ['publish', 'ET_OUTSIDE_LIBRARY']])
  t.false(serve.lines.some((line) => published(line) && ['box-config', 'box-folder', 'publish', 'evertorrent.toml', 'secrets'].includes(line.name!)))
})

test.serial('one of two drives ejected from the API: its items are withdrawn, the other drive stays published, and the LED says safe to unplug only once both are', async (t) => {
  const root = tempDir(t)
  const music = await makeDrive(t, root, 'ext4', 'MUSIC', { 'album/01.flac': 300_000, 'single.bin': 100_000 })
  const photos = await makeDrive(t, root, 'ext4', 'PHOTOS', { 'pics/a.jpg': 50_000 })
  await plug(root, music.drive)
  await plug(root, photos.drive)
  const token = 'drives-test-token'
  const serve = await startServe(t, root, { 'web.admin_token': token, 'library.eject_command': [mountHelper, 'remove', '{device}'] })
  const first = await serve.waitForCount(published, 3, 60_000)
  const infoHashOf = (name: string): string => first.find((line) => line.name === name)!.infohash!
  const base = `http://127.0.0.1:${serve.httpPort}`
  const ejectDrive = async (library: string): Promise<{ status: number, body: unknown }> => {
    const response = await fetch(`${base}/api/actions/eject-drive`, { method: 'POST', headers: { Authorization: `Bearer ${token}` }, body: JSON.stringify({ library }) })
    return { status: response.status, body: await response.json() }
  }
  const status = async (): Promise<StatusDocument> => await (await fetch(`${base}/api/status`)).json() as StatusDocument
  const torrent = async (name: string): Promise<number> => (await fetch(`${base}/torrents/${infoHashOf(name)}.torrent`)).status
  t.deepEqual((await status()).libraries.map((library) => [library.id, library.state]), [['MUSIC', 'present'], ['PHOTOS', 'present']])
  t.deepEqual((await status()).actions.available, ['rescan', 'eject', 'eject-drive', 'pause', 'resume'])

  const events = new AbortController()
  t.teardown(() => { events.abort() })
  const firstEjected = firstEvent(`${base}/api/events`, events.signal, (document) => document.libraries.some((library) => library.state === 'ejected'))
  t.deepEqual(await ejectDrive('MUSIC'), { status: 200, body: { action: 'eject-drive', done: true } })
  t.is(music.drive.mountPoint(), '', 'MUSIC is unmounted')
  t.not(photos.drive.mountPoint(), '', 'PHOTOS is not')
  // The page's event: its LED is the one the status change that brought "ejected" set.
  const led = (await firstEjected).leds[0]!.pattern
  events.abort()
  const one = await status()
  t.deepEqual(one.libraries.map((library) => [library.id, library.state]), [['MUSIC', 'ejected'], ['PHOTOS', 'present']])
  t.false(one.safeToRemove)
  t.deepEqual(one.items.map((item) => [item.name, item.state]), [['album', 'offline'], ['single.bin', 'offline'], ['pics', 'seeding']])
  t.deepEqual([await torrent('album'), await torrent('single.bin'), await torrent('pics')], [404, 404, 200])
  // Another drive is still in use: the one LED must not say "safe to unplug", nor blink as if MUSIC had been pulled.
  t.is(led, 'seeding')
  t.like(await ejectDrive('MUSIC'), { status: 404, body: { error: { code: 'ET_UNKNOWN_DRIVE' } } }, 'no longer mounted')

  t.is((await ejectDrive('PHOTOS')).status, 200)
  await waitUntil(async () => (await status()).safeToRemove, 10_000)
  t.deepEqual((await status()).libraries.map((library) => library.state), ['ejected', 'ejected'])
  await waitUntil(async () => (await status()).leds[0]!.pattern === 'safe-to-remove', 10_000)

  const before = serve.lines.length
  await plug(root, music.drive)
  const back = await serve.waitForCount((line) => published(line) && serve.lines.indexOf(line) >= before, 2, 30_000)
  t.true(back.every((line) => line.resumed === 'true'))
  const replugged = await status()
  t.deepEqual(replugged.libraries.map((library) => [library.id, library.state]), [['MUSIC', 'present'], ['PHOTOS', 'ejected']])
  t.false(replugged.safeToRemove)
  t.true(serve.running)
})

test('the mount helper names a reused device node by the drive it holds now, not by the one it held before (blkid -p)', async (t) => {
  const root = tempDir(t)
  const images = await Promise.all(['FIRST', 'SECOND'].map(async (label) => {
    const image = join(root, `${label}.img`)
    sparseFile(image, 64 * 1024 * 1024)
    await runOk('mkfs.ext4', ['-q', '-F', '-L', label, image])
    return image
  }))
  const loop = (await runOk('losetup', ['--find', '--show', images[0]!])).stdout.trim()
  t.teardown(async () => {
    await runOk(mountHelper, ['remove', loop], { env: helperEnv(root) }).catch(() => {})
    await runOk('losetup', ['-d', loop]).catch(() => {})
  })
  const mountPointOf = (): string | undefined => currentMounts().find((mount) => mount.source === loop)?.mountPoint
  await runOk(mountHelper, ['add', loop], { env: helperEnv(root) })
  t.is(mountPointOf(), join(mediaRoot(root), 'FIRST'))
  await runOk(mountHelper, ['remove', loop], { env: helperEnv(root) })
  // The same device node now holds another drive, as when another stick takes the same /dev/sdX.
  await runOk('losetup', ['-d', loop])
  await runOk('losetup', [loop, images[1]!])
  await runOk(mountHelper, ['add', loop], { env: helperEnv(root) })
  t.is(mountPointOf(), join(mediaRoot(root), 'SECOND'))
})
