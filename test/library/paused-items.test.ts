import test from 'ava'
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { PausedItems, type PausedItemsError } from '../../appliance/library/paused-items.js'
import { tempDir } from '../helpers/temp-dir.js'

/** Opens the paused items of `stateDir`, with every warning it gives. */
async function openPaused (stateDir: string): Promise<{ paused: PausedItems, warnings: PausedItemsError[] }> {
  const paused = new PausedItems(stateDir)
  const warnings: PausedItemsError[] = []
  paused.on('warning', (error) => warnings.push(error))
  await paused.open()
  return { paused, warnings }
}

test('paused items are on disk once add resolves, and read back by the next start', async (t) => {
  const stateDir = tempDir(t)
  const first = await openPaused(stateDir)
  await first.paused.add('/srv/library/album')
  await first.paused.add('/srv/library/film.mkv')
  await first.paused.delete('/srv/library/film.mkv')
  t.deepEqual(JSON.parse(readFileSync(join(stateDir, 'paused.json'), 'utf8')), { version: 1, items: ['/srv/library/album'] })
  t.deepEqual(readdirSync(stateDir), ['paused.json'], 'no temporary file is left')

  const second = await openPaused(stateDir)
  t.true(second.paused.has('/srv/library/album'))
  t.false(second.paused.has('/srv/library/film.mkv'))
  t.deepEqual(second.warnings, [])
})

test('no file pauses nothing, without a warning', async (t) => {
  const { paused, warnings } = await openPaused(tempDir(t))
  t.deepEqual(paused.items, [])
  t.deepEqual(warnings, [])
})

const DAMAGED: ReadonlyArray<[string, string]> = [
  ['cut short', '{"version": 1, "items": ["/srv/library/al'],
  ['another version', '{"version": 2, "items": ["/srv/library/album"]}'],
  ['items not a list', '{"version": 1, "items": "/srv/library/album"}'],
  ['an item not a string', '{"version": 1, "items": ["/srv/library/album", 7]}'],
  ['a relative path', '{"version": 1, "items": ["library/album"]}'],
  ['not an object', '["/srv/library/album"]'],
  ['empty', '']
]

for (const [damage, text] of DAMAGED) {
  test(`a damaged file (${damage}) pauses nothing, with one warning; the next pause writes it anew`, async (t) => {
    const stateDir = tempDir(t)
    writeFileSync(join(stateDir, 'paused.json'), text)
    const { paused, warnings } = await openPaused(stateDir)
    t.false(paused.has('/srv/library/album'))
    t.deepEqual(paused.items, [])
    t.deepEqual(warnings.map((warning) => warning.code), ['ET_PAUSED_STATE'])
    t.true(warnings[0]!.message.includes(join(stateDir, 'paused.json')), warnings[0]!.message)

    await paused.add('/srv/library/photos')
    t.deepEqual((await openPaused(stateDir)).paused.items, ['/srv/library/photos'])
  })
}

test('a pause that cannot be written is refused and changes nothing', async (t) => {
  const root = tempDir(t)
  const stateDir = join(root, 'state')
  mkdirSync(stateDir)
  const { paused } = await openPaused(stateDir)
  rmSync(stateDir, { recursive: true })
  const error = await t.throwsAsync(paused.add('/srv/library/album'))
  t.is((error as NodeJS.ErrnoException).code, 'ENOENT')
  t.false(paused.has('/srv/library/album'))
})
