import test from 'ava'
import { appendFileSync, mkdirSync, utimesSync } from 'node:fs'
import { appendFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import type { ItemStatus } from '../../appliance/catalog/item-status.js'
import { createTorrent } from '../../appliance/metainfo/create-torrent.js'
import { pseudoRandomBytes, sparseFile, writeTree } from '../helpers/content.js'
import { tempDir } from '../helpers/temp-dir.js'
import { startPublisher, type StartedPublisher } from './publisher-fixture.js'

// The settle rule, on a real folder and real timestamps: new or changed content is published only
// once it has stopped changing. Times here are short (1 s) so the tests stay quick; nothing asserts
// a duration, only the order of what happened.

const MiB = 1024 * 1024


/** Resolves with the first status (already seen or coming) of item `name` in `state`. */
async function statusOf (started: StartedPublisher, name: string, state: ItemStatus['state'], timeoutMs = 30_000): Promise<ItemStatus> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const found = started.statuses.find((status) => status.name === name && status.state === state)
    if (found !== undefined) return found
    if (Date.now() > deadline) throw new Error(`${name} never became ${state}; saw ${started.statuses.filter((status) => status.name === name).map((status) => status.state).join(' → ')}`)
    await sleep(20)
  }
}

const statesOf = (started: StartedPublisher, name: string): string[] => started.statuses.filter((status) => status.name === name).map((status) => status.state)

test('a file written in chunks is waiting until it has settled, then published once with its final content', async (t) => {
  const root = tempDir(t)
  const library = join(root, 'library')
  mkdirSync(library)
  const started = await startPublisher(t, library, { settleMs: 1000 })
  const path = join(library, 'big.bin')
  const chunk = pseudoRandomBytes('chunk', MiB)
  // Each chunk opened, appended and closed, as a slow copy would: no writer is open between them.
  for (let index = 0; index < 5; index++) {
    appendFileSync(path, chunk)
    await sleep(400)
  }

  const seeding = await statusOf(started, 'big.bin', 'seeding')
  t.is(seeding.totalBytes, 5 * MiB)
  t.is(seeding.infoHash, (await createTorrent(path)).metainfo.infoHash)
  t.deepEqual(started.published, ['big.bin'], 'one torrent, of the final content')
  const states = statesOf(started, 'big.bin')
  t.true(states.includes('waiting'))
  t.false(states.includes('error'), states.join(' → '))
  t.is(started.statuses.filter((status) => status.name === 'big.bin' && status.state === 'hashing' && status.bytesHashed === 0).length, 1, 'hashed once')
})

test('a published item that changes is withdrawn at once, waits, and is published again once settled', async (t) => {
  const root = tempDir(t)
  const library = join(root, 'library')
  writeTree(library, { 'notes.txt': 'first version' })
  await sleep(1100)
  const started = await startPublisher(t, library, { settleMs: 1000 })
  const first = started.publisher.statuses()[0]!
  t.is(first.state, 'seeding', 'written longer ago than the settle time: published at once')

  appendFileSync(join(library, 'notes.txt'), ', and more')
  await started.publisher.rescan()
  t.is(started.publisher.statuses()[0]?.state, 'waiting')
  t.false(started.catalog.has(first.infoHash!))
  t.is(started.catalog.size, 0)

  started.statuses.length = 0
  const again = await statusOf(started, 'notes.txt', 'seeding')
  t.not(again.infoHash, first.infoHash)
  t.true(started.catalog.has(again.infoHash!))
})

test('content with timestamps in the future is published once it has not changed for the settle time', async (t) => {
  const root = tempDir(t)
  const library = join(root, 'library')
  writeTree(library, { 'from-the-future.bin': 100_000 })
  const tomorrow = new Date(Date.now() + 86_400_000)
  utimesSync(join(library, 'from-the-future.bin'), tomorrow, tomorrow)
  const started = await startPublisher(t, library, { settleMs: 1000 })
  t.is(started.publisher.statuses()[0]?.state, 'waiting', 'its mtime never grows old, and it is not taken for settled')
  await statusOf(started, 'from-the-future.bin', 'seeding')
  t.deepEqual(started.published, ['from-the-future.bin'])
})

test('temporary names are never published, at the top of a library or inside an item', async (t) => {
  const root = tempDir(t)
  const library = join(root, 'library')
  writeTree(library, {
    'film.mkv': 10_000,
    'film2.mkv.part': 10_000,
    'setup.exe.crdownload': 10_000,
    'report.docx.TMP': 10_000,
    '~$report.docx': 162,
    'album/01.flac': 20_000,
    'album/02.flac.part': 20_000,
    'album/.03.flac.Xa3bQ9': 20_000,
    'album/.~lock.notes.odt#': 'x',
    'album/song.!qB': 20_000
  })
  const { catalog } = await startPublisher(t, library)
  t.deepEqual([...catalog.all()].map((torrent) => torrent.metainfo.name).sort(), ['album', 'film.mkv'])
  const album = [...catalog.all()].find((torrent) => torrent.metainfo.name === 'album')!
  t.deepEqual([...album.metainfo.files].map((file) => file.path.join('/')), ['01.flac'])
  t.is(album.metainfo.infoHash, (await createTorrent(join(library, 'album'))).metainfo.infoHash, 'evertorrent create leaves out the same files')
})

test('a temporary being written keeps its item waiting; one left behind is just left out', async (t) => {
  const root = tempDir(t)
  const library = join(root, 'library')
  writeTree(library, { 'stale/a.bin': 30_000, 'stale/b.bin.part': 1000, 'live/a.bin': 30_000, 'live/b.bin.part': 1000 })
  await sleep(1200)
  let writing = true
  const writer = (async () => {
    while (writing) {
      await appendFile(join(library, 'live', 'b.bin.part'), 'more')
      await sleep(200)
    }
  })()
  t.teardown(async () => {
    writing = false
    await writer
  })

  const started = await startPublisher(t, library, { settleMs: 1000 })
  await statusOf(started, 'stale', 'seeding')
  t.is(started.publisher.statuses().find((status) => status.name === 'live')?.state, 'waiting')
  await sleep(2500)
  t.is(started.publisher.statuses().find((status) => status.name === 'live')?.state, 'waiting', 'still written to, past the settle time')
  writing = false
  await writer

  await statusOf(started, 'live', 'seeding')
  const live = [...started.catalog.all()].find((torrent) => torrent.metainfo.name === 'live')!
  t.deepEqual([...live.metainfo.files].map((file) => file.path.join('/')), ['a.bin'])
  t.deepEqual(started.published.sort(), ['live', 'stale'])
})

test('a file that changes while it is hashed sends its item back to waiting, not to error', async (t) => {
  t.timeout(120_000)
  const root = tempDir(t)
  const library = join(root, 'library')
  const path = join(library, 'disk.img')
  // Holes read fast but still take a few seconds to hash: time enough to change it meanwhile.
  sparseFile(path, 4 * 1024 * MiB)
  const started = await startPublisher(t, library, { waitForFirstPass: false })
  await statusOf(started, 'disk.img', 'hashing')
  appendFileSync(path, 'one more line')

  const seeding = await statusOf(started, 'disk.img', 'seeding', 110_000)
  t.is(seeding.totalBytes, 4 * 1024 * MiB + 13)
  const states = statesOf(started, 'disk.img')
  t.false(states.includes('error'), states.join(' → '))
  t.true(states.indexOf('waiting') > states.indexOf('hashing'), states.join(' → '))
  t.deepEqual(started.published, ['disk.img'])
})
