import test, { type ExecutionContext } from 'ava'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core'
import { parseTorrent } from '../../appliance/metainfo/metainfo.js'
import { sparseFile, writeTree } from '../helpers/content.js'
import { sourcePath } from '../helpers/repo.js'
import { runOk } from '../helpers/run.js'
import { ServeProcess, type LogLine, type ServeOptions } from '../helpers/serve-process.js'
import { tempDir } from '../helpers/temp-dir.js'
import { tempHome } from '../helpers/temp-home.js'
import { freePort } from './clients/free-port.js'

const TOKEN = 'status-page-test-token'
const MiB = 1024 * 1024
const CHROMIUM = '/usr/bin/chromium'
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']
/** Where screenshots go: git-ignored, kept after the run for people (and the README's picture). */
const OUTPUT = sourcePath('test-output')

const published = (name: string) => (line: LogLine): boolean => line.msg === 'published' && line.name === name

test('the status page follows a real serve live: hashing, seeding, a download, an action, a removal and a restart', async (t) => {
  const root = tempDir(t)
  const library = join(root, 'library')
  writeTree(library, { 'notes.txt': 'read me\n', 'album/side-a.bin': 8 * MiB, 'album/side-b.bin': 8 * MiB, 'photos/one.jpg': 300_000 })
  const stateDir = join(root, 'state')
  const httpPort = await freePort()
  const options: ServeOptions = {
    libraries: [library],
    stateDir,
    // One hashing thread so a new item is seen hashing; no periodic rescan, so only the action rescans.
    settings: { 'hashing.threads': 1, 'library.rescan_interval': 3600, 'web.admin_token': TOKEN },
    // A fixed port, so that the page can find the service again after its restart.
    extraArgs: ['--http-port', String(httpPort)]
  }
  let serve = await ServeProcess.start(t, options)
  const album = await serve.waitFor(published('album'))
  await serve.waitFor(published('photos'))
  const base = `http://127.0.0.1:${httpPort}`

  const context = await openBrowser(t, base)
  const desktop = await openPage(context, base, { width: 1280, height: 900 })
  const phone = await openPage(context, base, { width: 360, height: 780 })
  const albumCard = desktop.page.locator('li.item[data-id="library/album"]')
  await albumCard.and(desktop.page.locator('[data-state="seeding"]')).waitFor()
  t.is(await desktop.page.title(), `${await desktop.page.locator('#box-name').textContent()} · evertorrent`)
  t.is(await desktop.page.locator('#connection').textContent(), 'Live')

  // A new item after the page is open: it shows up, is seen hashing with its progress, then seeding.
  const big = join(root, 'big.img')
  // 1 GiB, so that hashing it on one thread lasts several of the status model's 200 ms windows and the page sees it.
  sparseFile(big, 1024 * MiB)
  renameSync(big, join(library, 'big.img'))
  const bigCard = desktop.page.locator('li.item[data-id="library/big.img"]')
  await bigCard.and(desktop.page.locator('[data-state="hashing"]')).waitFor({ timeout: 15_000 })
  t.regex(await bigCard.locator('.badge').textContent() ?? '', /^Hashing \d+ %$/)
  await bigCard.and(desktop.page.locator('[data-state="seeding"]')).waitFor({ timeout: 60_000 })
  t.is(await bigCard.locator('.item-sub').textContent(), 'library/big.img · 1.0 GiB · 1 file')

  // The copy button puts the magnet link on the clipboard: the same one serve logged.
  await albumCard.getByRole('button', { name: 'Copy magnet link' }).click()
  await albumCard.getByRole('button', { name: 'Copied ✓' }).waitFor()
  t.is(await desktop.page.evaluate(async () => await navigator.clipboard.readText()), album.magnet)

  // The .torrent link downloads the torrent of that infohash.
  const [download] = await Promise.all([desktop.page.waitForEvent('download'), albumCard.getByRole('link', { name: /\.torrent file of album/ }).click()])
  const torrentPath = join(root, 'album.torrent')
  await download.saveAs(torrentPath)
  t.is(parseTorrent(new Uint8Array(readFileSync(torrentPath))).infoHash as string, album.infohash)

  // The QR code, as a phone's camera would read it off the screen, is the magnet link.
  await albumCard.getByText('QR code and links').click()
  t.is(await decodeQr(albumCard.locator('img.qr'), join(root, 'qr.png')), album.magnet)

  // A real client downloads, slowly: both pages show it, live, without reloading.
  await markPages([desktop.page, phone.page])
  const aria2 = startAria2(t, torrentPath, join(root, 'downloads'))
  for (const { page } of [desktop, phone]) {
    const card = page.locator('li.item[data-id="library/album"]')
    await card.locator('[data-field="peers"]').filter({ hasNotText: /^0$/ }).waitFor({ timeout: 30_000 })
    await card.locator('[data-field="upload-rate"]').filter({ hasNotText: /^0 B\/s$/ }).waitFor({ timeout: 30_000 })
    await card.locator('[data-field="leechers"]').filter({ hasNotText: /^0$/ }).waitFor({ timeout: 30_000 })
    // The Reach section counts the connected peer as encrypted or plain; this box maps nothing (it listens on loopback) and has the DHT off.
    await page.locator('#reach').filter({ hasText: /([1-9]\d* encrypted · \d+ plain|\d+ encrypted · [1-9]\d* plain)/ }).waitFor({ timeout: 30_000 })
    t.regex(await page.locator('#reach').textContent() ?? '', /Public addressnone: torrents name the LAN host only.*RouterPort mapping off.*DHToff/)
  }
  t.true(await pagesStillMarked([desktop.page, phone.page]), 'no page was reloaded')
  t.true(await phone.page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'nothing sticks out sideways at 360 px')
  await screenshot(desktop.page, 'status-page-desktop.png')
  await screenshot(phone.page, 'status-page-360.png', true)
  await aria2.stop()

  // Actions: refused without the token, done with it. A file added inside an item is noticed only
  // by a rescan (the library watch sees top-level entries), so the item changing is the action's doing.
  writeFileSync(join(library, 'photos', 'two.jpg'), 'a second photo')
  const photosSub = desktop.page.locator('li.item[data-id="library/photos"] .item-sub')
  t.regex(await photosSub.textContent() ?? '', / · 1 file$/)
  const rescan = desktop.page.locator('#actions-form button[data-action="rescan"]')
  await rescan.click()
  await desktop.page.locator('#action-result', { hasText: 'Wrong or missing admin token.' }).waitFor()
  t.regex(await photosSub.textContent() ?? '', / · 1 file$/)
  await desktop.page.getByLabel('Admin token').fill(TOKEN)
  await rescan.click()
  await desktop.page.locator('#action-result', { hasText: /^Rescan: (done|started)\.$/ }).waitFor()
  await photosSub.filter({ hasText: / · 2 files$/ }).waitFor({ timeout: 30_000 })

  // Pause an item from its card: the page shows it paused, with no links; resume it from the
  // keyboard: seeding again, from the resume store (no second hashing of it).
  const photosCard = desktop.page.locator('li.item[data-id="library/photos"]')
  const photosHashed = serve.lines.filter((line) => line.msg === 'hashing' && line.path === join(library, 'photos')).length
  await photosCard.getByRole('button', { name: 'Pause photos' }).click()
  await photosCard.and(desktop.page.locator('[data-state="paused"]')).waitFor({ timeout: 15_000 })
  t.is(await photosCard.locator('.badge').textContent(), 'Paused')
  t.true(await photosCard.locator('.links').isHidden(), 'no magnet link of a withdrawn torrent')
  await phone.page.locator('li.item[data-id="library/photos"][data-state="paused"]').getByRole('button', { name: 'Resume photos' }).waitFor()
  await photosCard.getByRole('button', { name: 'Resume photos' }).focus()
  await desktop.page.keyboard.press('Enter')
  await photosCard.and(desktop.page.locator('[data-state="seeding"]')).waitFor({ timeout: 15_000 })
  await desktop.page.locator('#action-result', { hasText: 'Resume photos: done.' }).waitFor()
  t.is(serve.lines.filter((line) => line.msg === 'hashing' && line.path === join(library, 'photos')).length, photosHashed)

  // An item's folder removed: its card goes.
  rmSync(join(library, 'album'), { recursive: true })
  await albumCard.waitFor({ state: 'detached', timeout: 30_000 })
  // The one refusal is the rescan without the token above.
  t.deepEqual(desktop.errors.filter((error) => !error.includes('status of 401 (Unauthorized)')), [], 'no script error, no refused resource, no CSP violation')
  t.deepEqual(phone.errors, [])

  // The service restarts: the page says it lost the connection, then comes back by itself.
  t.is(await serve.stop(), 0)
  await desktop.page.locator('#connection[data-state="lost"]').waitFor({ timeout: 10_000 })
  t.is(await desktop.page.locator('#connection').textContent(), 'Connection lost: reconnecting…')
  serve = await ServeProcess.start(t, options)
  await desktop.page.locator('#connection[data-state="live"]').waitFor({ timeout: 15_000 })
  await desktop.page.locator('li.item[data-id="library/photos"][data-state="seeding"]').waitFor({ timeout: 30_000 })
  t.true(await pagesStillMarked([desktop.page]), 'it reconnected without a reload')
})

test('the eject button of one drive ejects that drive only: the page shows it safe to unplug, and the other drive still published', async (t) => {
  const root = tempDir(t)
  const media = join(root, 'media')
  // Drives as mounts under the media root: tmpfs, so that no loop device is needed (mounting needs root).
  const music = await tmpfsDrive(t, join(media, 'MUSIC'), { 'album/01.flac': 200_000 })
  await tmpfsDrive(t, join(media, 'PHOTOS'), { 'pics/a.jpg': 50_000 })
  const serve = await ServeProcess.start(t, {
    libraries: [],
    stateDir: join(root, 'state'),
    settings: { 'library.folders': [], 'library.media_root': media, 'library.eject_command': ['umount', '{mountpoint}'], 'web.admin_token': TOKEN }
  })
  await serve.waitFor(published('album'))
  await serve.waitFor(published('pics'))
  const base = `http://127.0.0.1:${serve.httpPort}`
  const context = await openBrowser(t, base)
  const desktop = await openPage(context, base, { width: 1280, height: 900 })
  const phone = await openPage(context, base, { width: 360, height: 780 })
  const musicRow = desktop.page.locator('#libraries li[data-library="MUSIC"]')
  await musicRow.getByRole('button', { name: 'Eject MUSIC' }).waitFor()
  t.true(await phone.page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'nothing sticks out sideways at 360 px')

  await desktop.page.getByLabel('Admin token').fill(TOKEN)
  await musicRow.getByRole('button', { name: 'Eject MUSIC' }).click()
  await desktop.page.locator('#libraries li[data-library="MUSIC"][data-state="ejected"]').waitFor({ timeout: 15_000 })
  t.is(await musicRow.locator('.badge').textContent(), 'Ejected: safe to unplug')
  t.false(readFileSync('/proc/self/mountinfo', 'utf8').includes(` ${music} `), 'MUSIC is unmounted')
  await desktop.page.locator('li.item[data-id="MUSIC/album"][data-state="offline"]').waitFor({ timeout: 15_000 })
  t.is(await desktop.page.locator('#libraries li[data-library="PHOTOS"]').getAttribute('data-state'), 'present')
  t.is(await desktop.page.locator('li.item[data-id="PHOTOS/pics"]').getAttribute('data-state'), 'seeding')
  // PHOTOS is still in use: neither the page's notice nor the LED says to unplug the drives.
  t.true(await desktop.page.locator('#safe-to-remove').isHidden())
  t.is(await desktop.page.locator('#leds li').getAttribute('data-pattern'), 'seeding')
  await phone.page.locator('#libraries li[data-library="MUSIC"][data-state="ejected"]').waitFor({ timeout: 15_000 })
  t.true(await phone.page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'nor once ejected')
  await screenshot(phone.page, 'status-page-drives-360.png', true)
  t.deepEqual([...desktop.errors, ...phone.errors], [])
})

/** A folder under the media root with a tmpfs mounted on it, holding `files`; unmounted when the test ends. */
async function tmpfsDrive (t: ExecutionContext, mountPoint: string, files: Record<string, number>): Promise<string> {
  mkdirSync(mountPoint, { recursive: true })
  await runOk('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', mountPoint])
  t.teardown(async () => { await runOk('umount', ['-l', mountPoint]).catch(() => {}) })
  writeTree(mountPoint, files)
  return mountPoint
}

interface OpenPage {
  readonly page: Page
  /** Console errors and uncaught exceptions of the page. */
  readonly errors: string[]
}

/** Debian's Chromium with a fresh profile, closed (and the profile removed) when the test ends. */
async function openBrowser (t: ExecutionContext, origin: string): Promise<BrowserContext> {
  const profile = mkdtempSync(join(tmpdir(), 'evertorrent-chromium-'))
  // Chromium writes its NSS database and crash reports under $HOME even with a profile folder.
  const home = tempHome()
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true, acceptDownloads: true, env: home.env })
  t.teardown(async () => {
    await context.close()
    rmSync(profile, { recursive: true, force: true })
    home.remove()
  })
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin })
  return context
}

async function openPage (context: BrowserContext, url: string, viewport: { width: number, height: number }): Promise<OpenPage> {
  const page = await context.newPage()
  const errors: string[] = []
  page.on('console', (message) => { if (message.type() === 'error') errors.push(message.text()) })
  page.on('pageerror', (error) => errors.push(error.message))
  await page.setViewportSize(viewport)
  await page.goto(url)
  return { page, errors }
}

/** A mark on each page's window that a reload would wipe. */
async function markPages (pages: readonly Page[]): Promise<void> {
  for (const page of pages) await page.evaluate(() => { (window as unknown as { notReloaded: boolean }).notReloaded = true })
}

async function pagesStillMarked (pages: readonly Page[]): Promise<boolean> {
  const marks = await Promise.all(pages.map(async (page) => await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded === true)))
  return marks.every(Boolean)
}

async function screenshot (page: Page, name: string, fullPage = false): Promise<void> {
  mkdirSync(OUTPUT, { recursive: true })
  await page.evaluate(() => { window.scrollTo(0, 0) })
  await page.screenshot({ path: join(OUTPUT, name), fullPage })
}

/** Screenshots the QR image as the page shows it and decodes it with zbarimg (Debian's zbar-tools). */
async function decodeQr (image: Locator, path: string): Promise<string> {
  await image.evaluate(async (element: HTMLImageElement) => {
    if (!element.complete || element.naturalWidth === 0) await new Promise((resolve) => element.addEventListener('load', resolve, { once: true }))
  })
  await image.screenshot({ path })
  const { stdout } = await runOk('zbarimg', ['--quiet', '--raw', '-Sdisable', '-Sqrcode.enable', path], { timeoutMs: 30_000 })
  return stdout.trim()
}

/** aria2c downloading `torrent` at 128 KiB/s, so that the download lasts while the page is watched. */
function startAria2 (t: ExecutionContext, torrent: string, dir: string): { stop: () => Promise<void> } {
  const child = spawn('aria2c', [
    '--no-conf=true', `--dir=${dir}`, '--enable-dht=false', '--enable-dht6=false', '--bt-enable-lpd=false', '--enable-peer-exchange=false',
    '--seed-time=0', '--max-download-limit=128K', '--interface=127.0.0.1', '--disable-ipv6=true', `--stop-with-process=${process.pid}`,
    '--file-allocation=none', '--summary-interval=0', '--console-log-level=warn', torrent
  ], { stdio: ['ignore', 'ignore', 'pipe'] })
  const exited = once(child, 'exit')
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return
    child.kill('SIGKILL')
    await exited
  }
  t.teardown(stop)
  return { stop }
}
