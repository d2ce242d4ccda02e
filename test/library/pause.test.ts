import test, { type ExecutionContext } from 'ava'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { ItemStatus } from '../../appliance/catalog/item-status.js'
import { PausedItems } from '../../appliance/library/paused-items.js'
import { sparseFile, writeTree, type FileContent } from '../helpers/content.js'
import { tempDir } from '../helpers/temp-dir.js'
import { startPublisher, type StartedPublisher, type TestPublisherOptions } from './publisher-fixture.js'

/** A publisher of `library` with its state (resume store and paused items) in `stateDir`. */
async function start (t: ExecutionContext, library: string, stateDir: string, options: TestPublisherOptions = {}): Promise<StartedPublisher & { paused: PausedItems }> {
  const paused = new PausedItems(stateDir)
  paused.on('warning', (error) => t.fail(error.message))
  await paused.open()
  return { ...await startPublisher(t, library, { stateDir, paused, ...options }), paused }
}

/** A library folder holding `files`, and a state folder beside it. */
function folders (t: ExecutionContext, files: Readonly<Record<string, FileContent>>): { library: string, stateDir: string } {
  const root = tempDir(t)
  writeTree(join(root, 'library'), files)
  return { library: join(root, 'library'), stateDir: join(root, 'state') }
}

function statesOf (statuses: readonly ItemStatus[], name: string): string[] {
  return statuses.filter((status) => status.name === name).map((status) => status.state)
}

test('pause withdraws one torrent and holds it across a restart, never hashed; resume publishes it under the same infohash, unhashed', async (t) => {
  const { library, stateDir } = folders(t, { 'album/a.bin': 300_000, 'single.bin': 100_000 })
  const first = await start(t, library, stateDir)
  const album = [...first.catalog.all()].find((torrent) => torrent.metainfo.name === 'album')!.metainfo.infoHash
  await first.publisher.pause(join(library, 'album'))
  t.false(first.catalog.has(album))
  t.deepEqual([...first.catalog.all()].map((torrent) => torrent.metainfo.name), ['single.bin'])
  t.like(first.publisher.statuses().find((status) => status.name === 'album'), { state: 'paused', infoHash: album })
  await first.publisher.close()

  const second = await start(t, library, stateDir)
  t.deepEqual(statesOf(second.statuses, 'album'), ['paused'], 'paused from its first status on: never queued, hashed nor published')
  t.false(second.catalog.has(album))
  t.deepEqual(second.published, ['single.bin'])

  const before = second.statuses.length
  await second.publisher.resume(join(library, 'album'))
  t.true(second.catalog.has(album))
  const since = second.statuses.slice(before)
  t.false(statesOf(since, 'album').includes('hashing'))
  t.like(since.at(-1), { name: 'album', state: 'seeding', infoHash: album, resumed: true }, 'from the resume store, not hashed again')
  await second.publisher.close()
  t.false((await start(t, library, stateDir)).paused.has(join(library, 'album')), 'resumed for good')
})

test('pausing an item being hashed stops the hashing; it is not published, and resume hashes it then', async (t) => {
  const { library, stateDir } = folders(t, {})
  sparseFile(join(library, 'big.img'), 256 * 1024 * 1024)
  const started = await start(t, library, stateDir, { threads: 1, waitForFirstPass: false })
  await new Promise<void>((resolve) => {
    const look = (status: ItemStatus): void => {
      if (status.state !== 'hashing') return
      started.publisher.off('item', look)
      resolve()
    }
    started.publisher.on('item', look)
  })
  await started.publisher.pause(join(library, 'big.img'))
  await started.publisher.rescan()
  t.deepEqual(started.published, [])
  t.is(started.catalog.size, 0)
  t.deepEqual(started.publisher.statuses().map((status) => status.state), ['paused'])
  t.false(started.statuses.some((status) => status.state === 'error'), 'an aborted hashing is no error')

  await started.publisher.resume(join(library, 'big.img'))
  t.deepEqual(started.published, ['big.img'])
})

test('a paused item that is deleted is forgotten, also when it went while the service was stopped', async (t) => {
  const { library, stateDir } = folders(t, { 'one.bin': 10_000, 'two.bin': 10_000 })
  const first = await start(t, library, stateDir)
  await first.publisher.pause(join(library, 'one.bin'))
  await first.publisher.pause(join(library, 'two.bin'))
  await rm(join(library, 'one.bin'))
  await first.publisher.rescan()
  await first.paused.flush()
  t.deepEqual(first.paused.items, [join(library, 'two.bin')])
  await first.publisher.close()

  await rm(join(library, 'two.bin'))
  const second = await start(t, library, stateDir)
  await second.paused.flush()
  t.deepEqual(second.paused.items, [])
  writeTree(library, { 'two.bin': 'new content under the old name' })
  await second.publisher.rescan()
  t.deepEqual(second.published, ['two.bin'], 'new content under a forgotten name is published')
})

test('pause and resume of a path that is no item are refused', async (t) => {
  const { library, stateDir } = folders(t, { 'one.bin': 10_000 })
  const { publisher, paused } = await start(t, library, stateDir)
  for (const action of [publisher.pause, publisher.resume]) {
    const error = await t.throwsAsync(action.call(publisher, join(library, 'none')))
    t.is((error as { code?: string }).code, 'ET_UNKNOWN_ITEM')
  }
  t.deepEqual(paused.items, [])
})
