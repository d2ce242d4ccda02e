import test from 'ava'
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { writeTree } from '../helpers/content.js'
import { runOk } from '../helpers/run.js'
import { tempDir } from '../helpers/temp-dir.js'
import { startPublisher } from './publisher-fixture.js'

// A real EMFILE: this test process's own descriptor limit is lowered with prlimit(1) and filled up.
// Alone in its file, since AVA runs each file in its own process and the limit is that process's.

/** The soft and hard RLIMIT_NOFILE of this process (Node raised the soft one to the hard one at start). */
function descriptorLimits (): { soft: number, hard: number } {
  const limits = /^Max open files\s+(\d+)\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))!
  return { soft: Number(limits[1]), hard: Number(limits[2]) }
}

test.serial('running out of file descriptors during a rescan withdraws nothing, and the next pass is normal', async (t) => {
  const root = tempDir(t)
  const library = join(root, 'library')
  writeTree(library, { 'film.bin': 200_000, 'album/01.flac': 100_000, 'album/02.flac': 100_000 })
  const { publisher, catalog, store, statuses: changes } = await startPublisher(t, library, { stateDir: join(root, 'state'), threads: 1 })
  const removed: string[] = []
  const deferred: string[] = []
  publisher.on('removed', (path) => removed.push(path))
  publisher.on('deferred', (problem) => deferred.push(problem.message))
  // The resume index is saved a moment after publishing: saved now, not while out of descriptors.
  await store.flush()
  const before = publisher.statuses()
  t.deepEqual(before.map((status) => status.state), ['seeding', 'seeding'])
  changes.length = 0

  const { soft, hard } = descriptorLimits()
  const held: number[] = []
  const release = async (): Promise<void> => {
    for (const fd of held.splice(0)) closeSync(fd)
    await runOk('prlimit', ['--pid', String(process.pid), `--nofile=${soft}:${hard}`])
  }
  t.teardown(release)
  const inUse = readdirSync('/proc/self/fd').length
  await runOk('prlimit', ['--pid', String(process.pid), `--nofile=${inUse + 64}:${hard}`])
  let exhausted: unknown
  try {
    for (;;) held.push(openSync('/dev/null', 'r'))
  } catch (error) {
    exhausted = error
  }
  t.is((exhausted as NodeJS.ErrnoException).code, 'EMFILE', 'the process is really out of descriptors')

  await publisher.rescan()
  const during = publisher.statuses()
  await release()

  t.deepEqual(during, before, 'every item as it was: published, not offline, not in error')
  t.is(catalog.size, 2)
  t.deepEqual(removed, [])
  t.deepEqual(changes, [])
  t.is(deferred.length, 1)
  t.regex(deferred[0]!, /EMFILE/)

  writeTree(library, { 'new.bin': 50_000 })
  await publisher.rescan()
  t.deepEqual(publisher.statuses().map((status) => [status.name, status.state]), [['album', 'seeding'], ['film.bin', 'seeding'], ['new.bin', 'seeding']])
  t.is(catalog.size, 3)
})
