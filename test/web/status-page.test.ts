import test, { type ExecutionContext } from 'ava'
import { spawnSync } from 'node:child_process'
import { EventEmitter, once } from 'node:events'
import { readFileSync } from 'node:fs'
import { request } from 'node:http'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { Catalog, type PublishedTorrent } from '../../appliance/catalog/catalog.js'
import { hashingPattern, PATTERNS, type LedPattern } from '../../appliance/status/led-pattern.js'
import { magnetUri } from '../../appliance/metainfo/magnet.js'
import { StatusModel } from '../../appliance/status/status-model.js'
import { DiskSpace } from '../../appliance/web/disk-space.js'
import { HttpServer, httpServerOptionsFrom } from '../../appliance/web/http-server.js'
import type { StatusPageCommands } from '../../appliance/web/status-actions.js'
import type { MirrorDoc, StatusDocument } from '../../appliance/web/status-document.js'
import { mountStatusPageAssets, STATUS_PAGE_ASSETS } from '../../appliance/web/status-page-assets.js'
import { registerStatusPage, statusPageOptionsFrom, type LedSource, type StatusPage } from '../../appliance/web/status-page.js'
import { torrentDownloadHandler } from '../../appliance/web/torrent-download.js'
import { WebSeed } from '../../appliance/web/web-seed.js'
import { writeTree } from '../helpers/content.js'
import { DEFAULTS } from '../helpers/defaults.js'
import { SYSTEM_PYTHON } from '../helpers/libtorrent.js'
import { sourcePath } from '../helpers/repo.js'
import { tempDir } from '../helpers/temp-dir.js'
import { HOST, publish } from './fixture.js'

const TOKEN = 'correct-horse-battery-staple'
/**
 * How long to wait for an event. Changes reach a page in about 0.2 s (the status model's coalescing);
 * tests assert no timings, and the limit is generous for a loaded machine.
 */
const WAIT_MS = 10_000
const MiB = 1024 * 1024

interface Fixture {
  readonly root: string
  readonly library: string
  readonly catalog: Catalog
  readonly status: StatusModel
  readonly page: StatusPage
  readonly base: string
  readonly single: PublishedTorrent
  readonly album: PublishedTorrent
  readonly calls: string[]
  /** The page's clock (hashing ETAs); the status model keeps the real one. */
  readonly clock: { now: number }
}

interface FixtureOptions {
  readonly adminToken?: string
  readonly commands?: Partial<StatusPageCommands>
  readonly led?: LedSource
  readonly mirrors?: () => readonly MirrorDoc[]
}

/**
 * A status page on 127.0.0.1 over a real catalog and status model: a library folder with a
 * single-file and a multi-file item seeding, one being hashed and one in error (its message naming
 * absolute paths, which must not reach the page).
 */
async function startPage (t: ExecutionContext, options: FixtureOptions = {}): Promise<Fixture> {
  const root = tempDir(t)
  const library = join(root, 'Music library')
  writeTree(library, { 'single.bin': 100_000, 'album/a.bin': 70_000, 'album/b.txt': 'liner notes' })
  const catalog = new Catalog()
  const status = new StatusModel(Date.now, 50)
  t.teardown(() => status.close())
  const http = new HttpServer({ ...httpServerOptionsFrom(DEFAULTS), port: 0, host: HOST })
  http.route(['GET', 'HEAD'], '/webseed/*', new WebSeed({ catalog }).handle)
  http.route(['GET', 'HEAD'], '/torrents/*', torrentDownloadHandler(catalog))
  await http.start()
  t.teardown(async () => { await http.close() })
  const base = `http://${HOST}:${http.port}`
  const single = await publish(join(library, 'single.bin'), base)
  const album = await publish(join(library, 'album'), base)
  catalog.add(single)
  catalog.add(album)
  const calls: string[] = []
  const clock = { now: Date.now() }
  mountStatusPageAssets(http)
  const page = registerStatusPage(http, {
    ...statusPageOptionsFrom(DEFAULTS),
    status,
    catalog,
    commands: {
      rescan: async () => { calls.push('rescan') },
      ...options.commands
    },
    version: '9.8.7',
    adminToken: options.adminToken ?? '',
    trackers: () => [`http://${HOST}:6969/announce`],
    name: 'test-box',
    publicKey: 'ab'.repeat(32),
    addresses: () => ['192.0.2.7', '2001:db8::7'],
    ...(options.led !== undefined && { led: options.led }),
    ...(options.mirrors !== undefined && { mirrors: options.mirrors }),
    now: () => clock.now
  })
  t.teardown(async () => { await page.close() })
  status.setLibraries([{ path: library, kind: 'folder', state: 'present' }, { path: '/media/evertorrent/USB STICK', kind: 'drive', state: 'removed' }])
  for (const torrent of [single, album]) {
    const { infoHash, name, totalBytes } = torrent.metainfo
    status.item({ path: join(library, name), name, library, state: 'seeding', infoHash, totalBytes })
  }
  status.item({ path: join(library, 'film.mkv'), name: 'film.mkv', library, state: 'hashing', bytesHashed: 0, totalBytes: 100 * MiB })
  status.item({
    path: join(library, 'private'),
    name: 'private',
    library,
    state: 'error',
    error: { code: 'EACCES', message: `EACCES: permission denied, scandir '${join(library, 'private')}' (state in ${join(root, 'state')}/index.json)` }
  })
  status.setPhase('running')
  return { root, library, catalog, status, page, base, single, album, calls, clock }
}

async function getJson<T> (url: string): Promise<T> {
  const response = await fetch(url)
  if (!response.ok) throw new Error(`${url}: ${response.status}`)
  return await response.json() as T
}

async function post (url: string, headers: Record<string, string> = {}, body?: string): Promise<{ status: number, body: Record<string, unknown>, headers: Headers }> {
  const response = await fetch(url, { method: 'POST', headers, ...(body !== undefined && { body }) })
  return { status: response.status, body: await response.json() as Record<string, unknown>, headers: response.headers }
}

test('the page and every asset it names come from the box itself, under a policy that allows nothing else', async (t) => {
  const { base } = await startPage(t)
  const response = await fetch(`${base}/`)
  t.is(response.status, 200)
  t.regex(response.headers.get('content-type') ?? '', /^text\/html/)
  t.regex(response.headers.get('content-security-policy') ?? '', /default-src 'none'.*script-src 'self'/)
  const html = await response.text()
  t.regex(html, /<title>evertorrent<\/title>/)
  t.regex(html, /<meta name="viewport" content="width=device-width/)
  t.regex(html, /<link rel="icon" href="\/favicon.svg" type="image\/svg\+xml">/)
  t.regex(html, /<link rel="alternate" type="application\/rss\+xml" title="[^"]+" href="\/feed.xml">/)
  t.regex(html, /<link rel="alternate" type="application\/feed\+json" title="[^"]+" href="\/feed.json">/)
  // Links to other routes than the page's own files: the API, metrics and the feeds.
  const named = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1]!).filter((url) => !url.startsWith('/api/') && !['/metrics', '/feed.xml', '/feed.json'].includes(url))
  t.deepEqual([...new Set(named)].sort(), STATUS_PAGE_ASSETS.filter((path) => path !== '/').sort())
  for (const path of STATUS_PAGE_ASSETS) {
    const asset = await fetch(`${base}${path}`)
    t.is(asset.status, 200, path)
    const text = await asset.text()
    // No CDN, no web font, no third-party anything (the SVG namespace is a name, never fetched).
    t.notRegex(text.replaceAll('xmlns="http://www.w3.org/2000/svg"', ''), /(?:src|href)\s*=\s*["']?(?:https?:)?\/\/|url\(\s*["']?(?:https?:)?\/\/|@import/i, path)
    const etag = asset.headers.get('etag')!
    t.is((await fetch(`${base}${path}`, { headers: { 'If-None-Match': etag } })).status, 304, `${path} revalidates`)
  }
  const script = await (await fetch(`${base}/assets/status-page.js`)).text()
  t.notRegex(script, /^import |sourceMappingURL/m, 'the script loads nothing else')
})

test('/api/status matches the JSON Schema documented in docs/api.md', async (t) => {
  const { base, status, library, clock } = await startPage(t, { adminToken: TOKEN })
  // The first statfs of the library is asked for when the page starts and answers a moment later
  // (later still on a busy machine); the check below needs every optional part, space included.
  const deadline = Date.now() + 5000
  while ((await getJson<StatusDocument>(`${base}/api/status`)).libraries[0]?.space === undefined && Date.now() < deadline) await sleep(10)
  // A hashing rate needs two looks some time apart: the ETA then shows.
  await getJson(`${base}/api/status`)
  clock.now += 2000
  status.item({ path: join(library, 'film.mkv'), name: 'film.mkv', library, state: 'hashing', bytesHashed: 20 * MiB, totalBytes: 100 * MiB })
  status.item({ path: join(library, 'incoming.iso'), name: 'incoming.iso', library, state: 'waiting', totalBytes: 3 * MiB })
  status.item({ path: join(library, 'held.bin'), name: 'held.bin', library, state: 'paused', infoHash: 'cd'.repeat(20) as never, totalBytes: 42 })
  status.setLibraries([...status.snapshot().libraries, { path: '/media/evertorrent/PHOTOS', kind: 'drive', state: 'removed' }])
  status.driveEjected('/media/evertorrent/PHOTOS')
  status.uploaded(status.snapshot().items.find((item) => item.name === 'single.bin')!.infoHash!, 5000)
  const document = await getJson<StatusDocument>(`${base}/api/status`)

  const schema = documentedSchema()
  t.deepEqual(validate(document, schema), [])
  const film = document.items.find((item) => item.name === 'film.mkv')!
  t.deepEqual(film.hashing, { bytesHashed: 20 * MiB, fraction: 0.2, etaSeconds: 8 })
  // Every optional part of the shape is in this document, so the check above covered it.
  const single = document.items.find((item) => item.name === 'single.bin')!
  t.truthy(single.links?.download)
  t.is(single.fileCount, 1)
  t.is(document.items.find((item) => item.name === 'album')!.fileCount, 2)
  t.truthy(document.items.find((item) => item.name === 'private')!.error)
  t.like(document.items.find((item) => item.name === 'incoming.iso'), { state: 'waiting', totalBytes: 3 * MiB })
  t.like(document.items.find((item) => item.name === 'held.bin'), { state: 'paused', links: undefined })
  t.deepEqual(document.libraries.map((entry) => entry.state), ['present', 'removed', 'ejected'])
  t.truthy(document.libraries[0]!.space)
  t.true(document.leds.length > 0)
  t.deepEqual(document.actions, { enabled: true, available: ['rescan'] })

  // The check can fail: a missing field, an undocumented one and a wrong value are all caught.
  const { box: _box, ...withoutBox } = document
  t.not(validate(withoutBox, schema).length, 0)
  t.not(validate({ ...document, extra: 1 }, schema).length, 0)
  t.not(validate({ ...document, items: [{ ...single, state: 'sleeping' }] }, schema).length, 0)
})

test('the page data names libraries and items without any absolute path of the box', async (t) => {
  const { base, root, library, single } = await startPage(t)
  const document = await getJson<StatusDocument>(`${base}/api/status`)
  const texts = [
    JSON.stringify(document),
    await (await fetch(`${base}/metrics`)).text(),
    (await readEvents(`${base}/api/events`, 1))[0]!.data
  ]
  for (const text of texts) {
    t.false(text.includes(root), 'the temp folder of the test (the box\'s filesystem) shows nowhere')
    t.false(text.includes('/media/'), 'nor a mount point')
  }
  t.deepEqual(document.libraries.map((entry) => [entry.id, entry.kind, entry.state]), [['Music library', 'folder', 'present'], ['USB STICK', 'drive', 'removed']])
  t.is(document.items.find((item) => item.infoHash === single.metainfo.infoHash)!.id, 'Music library/single.bin')
  const error = document.items.find((item) => item.name === 'private')!.error!
  t.is(error.message, "EACCES: permission denied, scandir 'Music library/private' (state in …)")
  t.true(library.startsWith(root))
})

test('each published item has its magnet link, .torrent, web seed and a QR code of the magnet link', async (t) => {
  const { base, single, album } = await startPage(t)
  const document = await getJson<StatusDocument>(`${base}/api/status`)
  for (const torrent of [single, album]) {
    const item = document.items.find((entry) => entry.infoHash === torrent.metainfo.infoHash)!
    t.is(item.links!.magnet, magnetUri(torrent.metainfo))
    t.is(item.links!.webSeed, torrent.metainfo.urlList[0])
    const svg = await fetch(`${base}${item.links!.qr}`)
    t.is(svg.headers.get('content-type'), 'image/svg+xml')
    t.regex(await svg.text(), /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" viewBox="0 0 \d+ \d+"/)
    t.is((await fetch(`${base}${item.links!.torrent}`)).status, 200)
  }
  const download = await fetch(`${base}${document.items.find((entry) => entry.name === 'single.bin')!.links!.download!}`)
  t.is(download.status, 200)
  t.is((await download.arrayBuffer()).byteLength, single.metainfo.totalBytes)
  t.is(document.items.find((entry) => entry.name === 'album')!.links!.download, undefined, 'a folder has no single HTTP download')
  t.is((await fetch(`${base}/qr/${'0'.repeat(40)}.svg`)).status, 404)
})

test('/api/events sends a snapshot, then only what changed', async (t) => {
  const { base, status, single, library } = await startPage(t)
  const stream = openEvents(`${base}/api/events`)
  t.teardown(() => stream.close())
  const snapshot = await stream.next(WAIT_MS)
  t.is(snapshot.event, 'snapshot')
  t.is((JSON.parse(snapshot.data) as StatusDocument).items.length, 4)

  status.uploaded(single.metainfo.infoHash, 123_456)
  const delta = JSON.parse((await stream.next(WAIT_MS, (event) => event.event === 'delta' && event.data.includes('123456'))).data) as { items: Array<{ name: string, uploadedBytes: number }>, removed: string[], totals: { bytesUploaded: number } }
  t.deepEqual(delta.items.map((item) => [item.name, item.uploadedBytes]), [['single.bin', 123_456]], 'only the changed item')
  t.is(delta.totals.bytesUploaded, 123_456)

  status.itemRemoved(join(library, 'album'))
  const removal = JSON.parse((await stream.next(WAIT_MS, (event) => event.event === 'delta' && event.data.includes('"removed":["'))).data) as { removed: string[] }
  t.deepEqual(removal.removed, ['Music library/album'])
})

test('a mirror\'s download progress reaches open pages by itself, with nothing else changing', async (t) => {
  let verifiedBytes = 0
  const mirror = (): MirrorDoc => ({ origin: 'ab'.repeat(32), items: 1, bytes: 10, refused: { count: 0 }, dropped: { count: 0 }, downloading: { name: 'film', verifiedBytes, totalBytes: 1000, peers: 1 } })
  const { base, status } = await startPage(t, { mirrors: () => [mirror()] })
  // The fixture's own changes and the disk space are in first; from then on nothing but the mirror moves.
  await once(status, 'change')
  while ((await getJson<StatusDocument>(`${base}/api/status`)).libraries[0]!.space === undefined) await new Promise((resolve) => setTimeout(resolve, 20))
  const stream = openEvents(`${base}/api/events`)
  t.teardown(() => stream.close())
  const snapshot = JSON.parse((await stream.next(WAIT_MS)).data) as StatusDocument
  t.is(snapshot.mirrors[0]!.downloading!.verifiedBytes, 0)
  // Step after step: a page that heard of a mirror only when something else changed would miss some.
  for (const step of [256, 512, 768, 1000]) {
    verifiedBytes = step
    const delta = await stream.next(WAIT_MS, (event) => event.event === 'delta' && event.data.includes(`"verifiedBytes":${step},`))
    t.is((JSON.parse(delta.data) as StatusDocument).mirrors[0]!.downloading!.verifiedBytes, step)
  }
})

test('actions are refused with 403 while no admin token is configured', async (t) => {
  const { base, calls } = await startPage(t)
  const answer = await post(`${base}/api/actions/rescan`, { Authorization: 'Bearer anything' })
  t.is(answer.status, 403)
  t.is((answer.body.error as { code: string }).code, 'ET_ACTIONS_DISABLED')
  t.deepEqual(calls, [])
  t.false((await getJson<StatusDocument>(`${base}/api/status`)).actions.enabled)
})

test('an action without the admin token gets 401; with it, the command runs', async (t) => {
  const { base, calls } = await startPage(t, { adminToken: TOKEN })
  const refused: Array<Record<string, string>> = [{}, { Authorization: 'Bearer wrong-token' }, { Authorization: `Basic ${TOKEN}` }, { Authorization: `Bearer ${TOKEN}x` }]
  for (const headers of refused) {
    const answer = await post(`${base}/api/actions/rescan`, headers)
    t.is(answer.status, 401, JSON.stringify(headers))
    t.is(answer.headers.get('www-authenticate'), 'Bearer realm="evertorrent"')
  }
  t.deepEqual(calls, [])
  const auth = { Authorization: `Bearer ${TOKEN}` }
  t.deepEqual((await post(`${base}/api/actions/rescan`, auth)).body, { action: 'rescan', done: true })
  t.deepEqual(calls, ['rescan'])
  t.is((await post(`${base}/api/actions/rescan`, auth, '[1, 2]')).status, 400)
  for (const action of ['eject', 'eject-drive', 'pause', 'resume']) t.is((await post(`${base}/api/actions/${action}`, auth)).status, 501, `this service has no ${action}`)
  t.is((await post(`${base}/api/actions/reboot`, auth)).status, 404)
  t.is((await fetch(`${base}/api/actions/rescan`)).status, 405)
})

test('a slow action is answered 202, and its later failure is reported', async (t) => {
  let fail: (error: Error) => void = () => {}
  const { base, page } = await startPage(t, { adminToken: TOKEN, commands: { rescan: async () => await new Promise<void>((_resolve, reject) => { fail = reject }) } })
  const warnings: unknown[] = []
  page.on('warning', (failure) => warnings.push(failure))
  const answer = await post(`${base}/api/actions/rescan`, { Authorization: `Bearer ${TOKEN}` })
  t.deepEqual([answer.status, answer.body], [202, { action: 'rescan', done: false }])
  fail(new Error('library gone'))
  await new Promise((resolve) => setImmediate(resolve))
  t.is(warnings.length, 1)
})

test('/metrics is valid Prometheus text, as Prometheus\' own parser reads it, with names escaped', async (t) => {
  const { base, status, library, single } = await startPage(t)
  const weird = 'say "hi"\\ then\nbye'
  status.item({ path: join(library, 'weird'), name: weird, library, state: 'seeding', infoHash: 'ab'.repeat(20) as never, totalBytes: 42 })
  status.uploaded(single.metainfo.infoHash, 1000)
  status.peers(single.metainfo.infoHash, 1)
  status.swarm(single.metainfo.infoHash, { seeders: 2, leechers: 3, completed: 4 })
  await new Promise((resolve) => setTimeout(resolve, 100))
  const response = await fetch(`${base}/metrics`)
  t.is(response.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8')
  const families = parsePrometheus(await response.text())
  const sample = (metric: string, labels: Record<string, string> = {}): number | undefined => families
    .flatMap((family) => family.samples)
    .find((entry) => entry.name === metric && Object.entries(labels).every(([key, value]) => entry.labels[key] === value))?.value
  const ofSingle = { infohash: single.metainfo.infoHash, name: 'single.bin' }
  t.is(sample('evertorrent_build_info', { version: '9.8.7' }), 1)
  t.is(sample('evertorrent_items', { state: 'seeding' }), 3)
  t.is(sample('evertorrent_items', { state: 'error' }), 1)
  t.is(sample('evertorrent_items', { state: 'waiting' }), 0, 'every state has its series, even at 0')
  t.is(sample('evertorrent_uploaded_bytes_total'), 1000)
  t.is(sample('evertorrent_item_uploaded_bytes_total', ofSingle), 1000)
  t.is(sample('evertorrent_item_peers', ofSingle), 1)
  t.is(sample('evertorrent_item_swarm_leechers', ofSingle), 3)
  t.is(sample('evertorrent_item_downloads_completed_total', ofSingle), 4)
  t.is(sample('evertorrent_item_size_bytes', { infohash: 'ab'.repeat(20) }), 42)
  t.is(families.flatMap((family) => family.samples).find((entry) => entry.labels.infohash === 'ab'.repeat(20))!.labels.name, weird, 'the name round-trips through the escaping')
  t.is(families.find((family) => family.name === 'evertorrent_item_uploaded_bytes')?.type ?? families.find((family) => family.name === 'evertorrent_item_uploaded_bytes_total')?.type, 'counter')
  // The parser is strict enough to fail: an unescaped quote in a label value is an error.
  t.throws(() => parsePrometheus('x{name="a"b"} 1\n'))
})

test('the LED: the hardware controller\'s pattern is shown, and its changes reach open pages', async (t) => {
  const led = Object.assign(new EventEmitter<{ pattern: [LedPattern] }>(), { pattern: hashingPattern(0.5) })
  const { base } = await startPage(t, { led })
  const stream = openEvents(`${base}/api/events`)
  t.teardown(() => stream.close())
  const snapshot = JSON.parse((await stream.next(WAIT_MS)).data) as StatusDocument
  t.deepEqual(snapshot.leds.map((entry) => [entry.name, entry.pattern, entry.onMs, entry.offMs]), [['status', 'hashing', 1500, 1500]])
  led.pattern = PATTERNS.attention
  led.emit('pattern', led.pattern)
  const delta = JSON.parse((await stream.next(WAIT_MS, (event) => event.event === 'delta' && event.data.includes('"attention"'))).data) as StatusDocument
  t.deepEqual(delta.leds, [{ name: 'status', pattern: 'attention', onMs: 100, offMs: 100, colour: PATTERNS.attention.colour, meaning: PATTERNS.attention.meaning }])
})

test('without a hardware controller the page shows the pattern the status calls for', async (t) => {
  const { base } = await startPage(t)
  const document = await getJson<StatusDocument>(`${base}/api/status`)
  // The fixture has an item in error and a drive removed: the LED asks for attention.
  t.deepEqual(document.leds.map((entry) => entry.pattern), ['attention'])
})

test('a drive that hangs in statfs is asked again only once the first answer is in', async (t) => {
  const asked: string[] = []
  const answers: Array<() => void> = []
  const space = new DiskSpace(async (path) => {
    asked.push(path)
    await new Promise<void>((resolve) => answers.push(resolve))
    return { bsize: 4096, blocks: 1000, bfree: 400, bavail: 300 }
  })
  const first = space.refresh(['/media/stuck'])
  void space.refresh(['/media/stuck'])
  void space.refresh(['/media/stuck'])
  t.deepEqual(asked, ['/media/stuck'])
  answers[0]!()
  t.true(await first)
  t.deepEqual(space.get('/media/stuck'), { totalBytes: 4096 * 1000, freeBytes: 4096 * 300, usedBytes: 4096 * 600 })
  void space.refresh(['/media/stuck'])
  t.is(asked.length, 2)
})

// ---- helpers -------------------------------------------------------------------------------------

interface ServerEvent {
  readonly event: string
  readonly data: string
}

/** An `/api/events` stream read event by event. */
function openEvents (url: string): { next: (timeoutMs: number, match?: (event: ServerEvent) => boolean) => Promise<ServerEvent>, close: () => void } {
  const events: ServerEvent[] = []
  const waiters = new Set<() => void>()
  let buffer = ''
  const req = request(url, (res) => {
    res.setEncoding('utf8').on('data', (chunk: string) => {
      buffer += chunk
      let end
      while ((end = buffer.indexOf('\n\n')) !== -1) {
        const block = buffer.slice(0, end)
        buffer = buffer.slice(end + 2)
        const event = /^event: (.*)$/m.exec(block)?.[1]
        const data = /^data: (.*)$/m.exec(block)?.[1]
        if (event !== undefined && data !== undefined) events.push({ event, data })
      }
      for (const wake of waiters) wake()
    })
  })
  req.on('error', () => {})
  req.end()
  let taken = 0
  return {
    async next (timeoutMs, match = () => true) {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        while (taken < events.length) {
          const event = events[taken++]!
          if (match(event)) return event
        }
        const left = deadline - Date.now()
        if (left <= 0) throw new Error(`no matching event within ${timeoutMs} ms (saw ${events.map((event) => event.event).join(', ')})`)
        await new Promise<void>((resolve) => {
          const wake = (): void => { clearTimeout(timer); waiters.delete(wake); resolve() }
          const timer = setTimeout(wake, left)
          waiters.add(wake)
        })
      }
    },
    close: () => { req.destroy() }
  }
}

async function readEvents (url: string, count: number): Promise<ServerEvent[]> {
  const stream = openEvents(url)
  try {
    const events: ServerEvent[] = []
    while (events.length < count) events.push(await stream.next(WAIT_MS))
    return events
  } finally {
    stream.close()
  }
}

interface PrometheusFamily {
  readonly name: string
  readonly type: string
  readonly samples: ReadonlyArray<{ readonly name: string, readonly labels: Readonly<Record<string, string>>, readonly value: number }>
}

/** Parses with the Prometheus project's Python client (Debian's python3-prometheus-client); throws on invalid input. */
function parsePrometheus (text: string): PrometheusFamily[] {
  const script = [
    'import json, sys',
    'from prometheus_client.parser import text_string_to_metric_families',
    'families = [{"name": f.name, "type": f.type, "samples": [{"name": s.name, "labels": s.labels, "value": s.value} for s in f.samples]} for f in text_string_to_metric_families(sys.stdin.read())]',
    'json.dump(families, sys.stdout)'
  ].join('\n')
  const result = spawnSync(SYSTEM_PYTHON, ['-c', script], { input: text, encoding: 'utf8', timeout: 30_000 })
  if (result.error !== undefined) throw result.error
  if (result.status !== 0) throw new Error(`the Prometheus parser refused the text: ${result.stderr.trim().split('\n').pop() ?? ''}`)
  return JSON.parse(result.stdout) as PrometheusFamily[]
}

// ---- the documented schema and a checker for the part of JSON Schema it uses -----------------------

interface Schema {
  readonly type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean'
  readonly enum?: readonly unknown[]
  readonly required?: readonly string[]
  readonly properties?: Readonly<Record<string, Schema>>
  readonly additionalProperties?: boolean
  readonly items?: Schema
  readonly minimum?: number
  readonly maximum?: number
  readonly pattern?: string
  readonly $ref?: string
  readonly $defs?: Readonly<Record<string, Schema>>
}

const SUPPORTED = new Set(['$schema', 'title', 'type', 'enum', 'required', 'properties', 'additionalProperties', 'items', 'minimum', 'maximum', 'pattern', '$ref', '$defs'])

/** The JSON block between the status-schema markers of docs/api.md. */
function documentedSchema (): Schema {
  const markdown = readFileSync(sourcePath('docs/api.md'), 'utf8')
  const block = /<!-- status-schema:begin -->\s*```json\n([\s\S]*?)```\s*<!-- status-schema:end -->/.exec(markdown)
  if (block === null) throw new Error('docs/api.md has no status-schema block')
  return JSON.parse(block[1]!) as Schema
}

/** Every way `value` breaks `schema`, as `$.path: problem`; a keyword the checker does not know is a problem too. */
function validate (value: unknown, schema: Schema, root: Schema = schema, path = '$'): string[] {
  const unknown = Object.keys(schema).filter((key) => !SUPPORTED.has(key))
  if (unknown.length > 0) return [`${path}: the checker does not know ${unknown.join(', ')}`]
  if (schema.$ref !== undefined) {
    const target = root.$defs?.[schema.$ref.replace('#/$defs/', '')]
    return target === undefined ? [`${path}: no ${schema.$ref}`] : validate(value, target, root, path)
  }
  if (schema.enum !== undefined && !schema.enum.includes(value)) return [`${path}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`]
  const problems: string[] = []
  switch (schema.type) {
    case 'object': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return [`${path}: not an object`]
      const record = value as Record<string, unknown>
      for (const key of schema.required ?? []) if (!(key in record)) problems.push(`${path}: ${key} is missing`)
      for (const [key, entry] of Object.entries(record)) {
        const property = schema.properties?.[key]
        if (property !== undefined) problems.push(...validate(entry, property, root, `${path}.${key}`))
        else if (schema.additionalProperties === false) problems.push(`${path}: ${key} is not documented`)
      }
      return problems
    }
    case 'array':
      if (!Array.isArray(value)) return [`${path}: not an array`]
      return value.flatMap((entry, index) => schema.items === undefined ? [] : validate(entry, schema.items, root, `${path}[${index}]`))
    case 'string':
      if (typeof value !== 'string') return [`${path}: not a string`]
      if (schema.pattern !== undefined && !new RegExp(schema.pattern, 'u').test(value)) problems.push(`${path}: ${JSON.stringify(value)} does not match ${schema.pattern}`)
      return problems
    case 'integer':
    case 'number':
      if (typeof value !== 'number' || (schema.type === 'integer' && !Number.isInteger(value))) return [`${path}: not ${schema.type === 'integer' ? 'an integer' : 'a number'}`]
      if (schema.minimum !== undefined && value < schema.minimum) problems.push(`${path}: ${value} < ${schema.minimum}`)
      if (schema.maximum !== undefined && value > schema.maximum) problems.push(`${path}: ${value} > ${schema.maximum}`)
      return problems
    case 'boolean':
      return typeof value === 'boolean' ? [] : [`${path}: not a boolean`]
    case undefined:
      return []
  }
}
