import test from 'ava'
import { mkdir, readFile, rename, rm, stat, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { ItemStatus } from '../../appliance/catalog/item-status.js'
import { createTorrent } from '../../appliance/metainfo/create-torrent.js'
import { parseTorrent } from '../../appliance/metainfo/metainfo.js'
import { tempDir } from '../helpers/temp-dir.js'
import { writeTree } from '../helpers/content.js'
import { startPublisher, type TestPublisherOptions } from './publisher-fixture.js'

const TRACKERS: TestPublisherOptions['trackersFor'] = (infoHash) => ({ announceList: [['http://box:6969/announce']], urlList: [`http://box:8080/webseed/${infoHash}/`] })

test('every top-level entry becomes one torrent with our trackers and web seed; junk and hidden entries do not', async (t) => {
  const root = tempDir(t)
  const library = join(root, 'library')
  writeTree(library, { 'film.bin': 300_000, 'photos/a.jpg': 5000, 'photos/b/c.jpg': 7000, '.Trash-1000/x': 'x', 'Thumbs.db': 'x', 'lost+found/y': 'y' })
  const { catalog } = await startPublisher(t, library, { stateDir: join(root, 'state'), trackersFor: TRACKERS })

  const names = [...catalog.all()].map((torrent) => torrent.metainfo.name).sort()
  t.deepEqual(names, ['film.bin', 'photos'])
  const photos = [...catalog.all()].find((torrent) => torrent.metainfo.name === 'photos')!
  t.is(photos.metainfo.infoHash, (await createTorrent(join(library, 'photos'))).metainfo.infoHash)
  t.deepEqual(photos.metainfo.urlList, [`http://box:8080/webseed/${photos.metainfo.infoHash}/`])
  t.deepEqual([...photos.files].map((file) => file.absolutePath), [join(library, 'photos/a.jpg'), join(library, 'photos/b/c.jpg')])
})

test('a restart resumes unchanged items without hashing them', async (t) => {
  const root = tempDir(t)
  const library = join(root, 'library')
  writeTree(library, { 'one.bin': 100_000, 'two/x.bin': 200_000 })
  const first = await startPublisher(t, library, { stateDir: join(root, 'state'), trackersFor: TRACKERS })
  const before = [...first.catalog.all()].map((torrent) => torrent.metainfo.infoHash).sort()
  await first.publisher.close()

  const second = await startPublisher(t, library, { stateDir: join(root, 'state'), trackersFor: TRACKERS })
  t.deepEqual([...second.catalog.all()].map((torrent) => torrent.metainfo.infoHash).sort(), before)
  t.false(second.statuses.some((status) => status.state === 'hashing'))
  t.true(second.statuses.filter((status) => status.state === 'seeding').every((status) => status.resumed === true))
})

test('a resumed item\'s .torrent is rewritten when its trackers changed, and left alone when they did not', async (t) => {
  const root = tempDir(t)
  const library = join(root, 'library')
  const stateDir = join(root, 'state')
  writeTree(library, { 'one.bin': 100_000 })
  const first = await startPublisher(t, library, { stateDir, trackersFor: TRACKERS })
  const infoHash = [...first.catalog.all()][0]!.metainfo.infoHash
  await first.publisher.close()
  const torrentFile = join(stateDir, 'torrents', `${infoHash}.torrent`)
  const written = await stat(torrentFile)

  const same = await startPublisher(t, library, { stateDir, trackersFor: TRACKERS })
  await same.publisher.close()
  t.is((await stat(torrentFile)).mtimeMs, written.mtimeMs, 'the same trackers: not written again')
  t.is((await stat(torrentFile)).ino, written.ino)

  const moved: TestPublisherOptions['trackersFor'] = () => ({ announceList: [['http://elsewhere:6969/announce']], urlList: [] })
  const other = await startPublisher(t, library, { stateDir, trackersFor: moved })
  await other.publisher.close()
  const rewritten = parseTorrent(await readFile(torrentFile))
  t.is(rewritten.infoHash, infoHash)
  t.deepEqual(rewritten.announceList, [['http://elsewhere:6969/announce']])
  t.deepEqual(rewritten.urlList, [])
})

test('periodic rescans list a published item again only once RELIST_MS_PER_FILE per file it holds has passed; a rescan asked for lists it at once', async (t) => {
  const root = tempDir(t)
  const library = join(root, 'library')
  writeTree(library, { 'doc/a.txt': 'first version' })
  const clock = { now: 0 }
  const { publisher, catalog } = await startPublisher(t, library, { stateDir: join(root, 'state'), rescanIntervalMs: 20, now: () => clock.now })
  const infoHash = (): string => [...catalog.all()][0]?.metainfo.infoHash ?? ''
  const first = infoHash()

  // The clock stands still: the item was listed "just now", so the passes every 20 ms leave it be.
  await writeFile(join(library, 'doc', 'a.txt'), 'second, longer version')
  await new Promise((resolve) => setTimeout(resolve, 300))
  t.is(infoHash(), first, 'not listed again by a periodic pass so soon')

  // Far later than 2 ms per file: the next periodic pass lists it and sees the change.
  clock.now = 1e9
  while (infoHash() === first || infoHash() === '') await new Promise((resolve) => setTimeout(resolve, 10))
  const second = infoHash()

  await writeFile(join(library, 'doc', 'a.txt'), 'a third version, longer still')
  await publisher.rescan()
  t.not(infoHash(), second, 'a rescan asked for lists everything at once')
  t.not(infoHash(), '')
})

test('a changed file is republished under a new infohash and the old one is withdrawn; a removed item is unpublished', async (t) => {
  const root = tempDir(t)
  const library = join(root, 'library')
  writeTree(library, { 'doc/a.txt': 'first version', 'gone.bin': 50_000 })
  const { publisher, catalog } = await startPublisher(t, library, { stateDir: join(root, 'state'), trackersFor: TRACKERS })
  const old = [...catalog.all()].find((torrent) => torrent.metainfo.name === 'doc')!.metainfo.infoHash

  await writeFile(join(library, 'doc', 'a.txt'), 'second, longer version')
  await rm(join(library, 'gone.bin'))
  await publisher.rescan()

  t.false(catalog.has(old))
  const names = [...catalog.all()].map((torrent) => torrent.metainfo.name)
  t.deepEqual(names, ['doc'])
  t.not([...catalog.all()][0]!.metainfo.infoHash, old)
})

test('an item that cannot be published is in error with its reason, and the others are published', async (t) => {
  const root = tempDir(t)
  const library = join(root, 'library')
  writeTree(library, { 'good.bin': 10_000 })
  await mkdir(join(library, 'empty-folder'))
  const { catalog, publisher } = await startPublisher(t, library, { stateDir: join(root, 'state'), trackersFor: TRACKERS })
  t.is(catalog.size, 1)
  const failed = publisher.statuses().find((status) => status.name === 'empty-folder')
  t.is(failed?.state, 'error')
  t.is(failed?.error?.code, 'ET_EMPTY')
})

test('a library that goes away takes its items offline without forgetting them; back, they resume without hashing', async (t) => {
  const root = tempDir(t)
  const drive = join(root, 'drive')
  writeTree(drive, { 'movie.bin': 400_000, 'pics/a.jpg': 3000 })
  const { publisher, catalog } = await startPublisher(t, drive, { stateDir: join(root, 'state'), trackersFor: TRACKERS })
  const before = [...catalog.all()].map((torrent) => torrent.metainfo.infoHash).sort()
  t.is(before.length, 2)

  await publisher.setLibraries([])
  t.is(catalog.size, 0)
  const offline = publisher.statuses()
  t.deepEqual(offline.map((status) => status.state), ['offline', 'offline'])
  t.deepEqual(offline.map((status) => status.infoHash).sort(), before)

  const seen: ItemStatus[] = []
  publisher.on('item', (status) => seen.push(status))
  await publisher.setLibraries([drive])
  t.deepEqual([...catalog.all()].map((torrent) => torrent.metainfo.infoHash).sort(), before)
  t.false(seen.some((status) => status.state === 'hashing'))
})

test('a library folder that vanishes (a drive pulled without notice) also takes its items offline', async (t) => {
  const root = tempDir(t)
  const drive = join(root, 'drive')
  writeTree(drive, { 'song.bin': 100_000 })
  const { publisher, catalog } = await startPublisher(t, drive, { stateDir: join(root, 'state'), trackersFor: TRACKERS })
  await rename(drive, `${drive}-gone`)
  await publisher.rescan()
  t.is(catalog.size, 0)
  t.is(publisher.statuses()[0]?.state, 'offline')
})

test('a top-level symbolic link leading out of the library is refused and shown; one inside it is published', async (t) => {
  const root = tempDir(t)
  const library = join(root, 'library')
  writeTree(root, { 'library/film.bin': 20_000, 'library/folder/a.bin': 10_000, 'box/config.toml': 'admin_token = "secret"', 'library-2/x.bin': 5000 })
  await symlink(join(root, 'box', 'config.toml'), join(library, 'config-link'))
  await symlink('../box', join(library, 'box-link'))
  await symlink('../library-2', join(library, 'prefix-trick'))
  await symlink('nowhere', join(library, 'dangling'))
  await symlink('.', join(library, 'itself'))
  await symlink('film.bin', join(library, 'film-link'))
  await symlink(join(library, 'folder'), join(library, 'folder-link'))
  const { catalog, publisher } = await startPublisher(t, library, { stateDir: join(root, 'state'), trackersFor: TRACKERS })

  t.deepEqual([...catalog.all()].map((torrent) => torrent.metainfo.name).sort(), ['film-link', 'film.bin', 'folder', 'folder-link'])
  for (const torrent of catalog.all()) {
    for (const file of torrent.files) t.true(file.absolutePath.startsWith(library + '/'), file.absolutePath)
  }
  const refused = publisher.statuses().filter((status) => status.state === 'error')
  t.deepEqual(refused.map((status) => [status.name, status.error?.code]), ['box-link', 'config-link', 'dangling', 'itself', 'prefix-trick'].map((name) => [name, 'ET_OUTSIDE_LIBRARY']))
  t.true(refused.every((status) => status.error!.message.includes(join(library, status.name))))
})

test('a name with a control character is an item error, and the other items are published', async (t) => {
  const root = tempDir(t)
  const library = join(root, 'library')
  writeTree(library, { 'good.bin': 10_000, 'line\nbreak.bin': 10_000, 'album/01\u001b[2J.flac': 10_000, 'album/02.flac': 10_000 })
  const { catalog, publisher } = await startPublisher(t, library, { stateDir: join(root, 'state'), trackersFor: TRACKERS })
  t.deepEqual([...catalog.all()].map((torrent) => torrent.metainfo.name), ['good.bin'])
  const failed = publisher.statuses().filter((status) => status.state === 'error')
  t.deepEqual(failed.map((status) => [status.name, status.error?.code]), [['album', 'ET_NAME_ENCODING'], ['line\nbreak.bin', 'ET_NAME_ENCODING']])
})

test('a resume index with a broken entry rehashes that item and publishes it', async (t) => {
  const root = tempDir(t)
  const library = join(root, 'library')
  writeTree(library, { 'one.bin': 100_000, 'two.bin': 100_000 })
  const first = await startPublisher(t, library, { stateDir: join(root, 'state'), trackersFor: TRACKERS })
  const before = [...first.catalog.all()].map((torrent) => torrent.metainfo.infoHash).sort()
  await first.publisher.close()
  const indexPath = join(root, 'state', 'resume.json')
  const index = JSON.parse(await readFile(indexPath, 'utf8')) as { items: Record<string, unknown> }
  index.items[join(library, 'one.bin')] = null
  index.items[join(library, 'two.bin')] = { infoHash: 42, signature: [] }
  await writeFile(indexPath, JSON.stringify(index))

  const second = await startPublisher(t, library, { stateDir: join(root, 'state'), trackersFor: TRACKERS })
  t.deepEqual([...second.catalog.all()].map((torrent) => torrent.metainfo.infoHash).sort(), before)
  t.deepEqual(second.publisher.statuses().map((status) => [status.name, status.state, status.resumed]), [['one.bin', 'seeding', false], ['two.bin', 'seeding', false]])
})

test('an item with more files than library.max_files_per_item is in error, the others published; published files read back from the packed listing', async (t) => {
  const root = tempDir(t)
  const library = join(root, 'library')
  writeTree(library, { 'small/a.bin': 10_000, 'small/b/c.bin': 20_000, 'large/1': 1, 'large/2': 1, 'large/3': 1 })
  const { catalog, publisher } = await startPublisher(t, library, { stateDir: join(root, 'state'), trackersFor: TRACKERS, maxFilesPerItem: 2 })
  t.is(catalog.size, 1)
  const failed = publisher.statuses().find((status) => status.name === 'large')
  t.is(failed?.state, 'error')
  t.is(failed?.error?.code, 'ET_TOO_MANY_FILES')
  const [small] = [...catalog.all()]
  t.deepEqual([...small!.files].map((file) => [file.absolutePath, file.size]), [[join(library, 'small/a.bin'), 10_000], [join(library, 'small/b/c.bin'), 20_000]])
  t.deepEqual(small!.files.at(1), [...small!.files][1])
})

test('with format hybrid, items are published as hybrid torrents (not resumed from v1 ones), their files in file tree order, and resumed so', async (t) => {
  const root = tempDir(t)
  const library = join(root, 'library')
  // "docs" the folder sorts before "docs.txt" in a file tree, after it in v1's order.
  writeTree(library, { 'set/docs.txt': 3000, 'set/docs/a.bin': 40_000, 'set/z.bin': 20_000 })
  const expected = (await createTorrent(join(library, 'set'), { format: 'hybrid' })).metainfo
  const v1 = await startPublisher(t, library, { stateDir: join(root, 'state') })
  t.is([...v1.catalog.all()][0]!.metainfo.format, 'v1')
  await v1.publisher.close()
  // The v1 torrent remembered for the same content is not resumed in another format.
  for (const run of ['hashed', 'resumed']) {
    const { catalog, publisher } = await startPublisher(t, library, { stateDir: join(root, 'state'), format: 'hybrid' })
    const [torrent] = [...catalog.all()]
    t.is(torrent!.metainfo.format, 'hybrid', run)
    t.is(torrent!.metainfo.infoHashV2, expected.infoHashV2, run)
    t.deepEqual([...torrent!.files].map((file) => file.absolutePath), ['docs/a.bin', 'docs.txt', 'z.bin'].map((path) => join(library, 'set', path)), run)
    t.deepEqual([...torrent!.metainfo.files].map((file) => file.path.join('/')), ['docs/a.bin', 'docs.txt', 'z.bin'], run)
    await publisher.close()
  }
})
