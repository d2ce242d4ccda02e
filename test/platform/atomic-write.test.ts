import { mkdirSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import test from 'ava'
import { writeFileAtomic } from '../../appliance/platform/atomic-write.js'
import { tempDir } from '../helpers/temp-dir.js'

test('writeFileAtomic replaces the file and leaves no temporary file', async (t) => {
  const folder = tempDir(t)
  await writeFileAtomic(join(folder, 'a.torrent'), 'one')
  await writeFileAtomic(join(folder, 'a.torrent'), 'two')
  t.is(readFileSync(join(folder, 'a.torrent'), 'utf8'), 'two')
  t.deepEqual(readdirSync(folder), ['a.torrent'])
})

test('writeFileAtomic writes parts one after the other, a large one whole', async (t) => {
  const folder = tempDir(t)
  const large = Buffer.alloc(3 * 1024 * 1024 + 7, 0x61)
  await writeFileAtomic(join(folder, 'a.torrent'), [Buffer.from('d4:info'), large, new Uint8Array(0), Buffer.from('e')])
  const written = readFileSync(join(folder, 'a.torrent'))
  t.is(written.length, 7 + large.length + 1)
  t.is(written.subarray(0, 7).toString(), 'd4:info')
  t.true(written.subarray(7, 7 + large.length).equals(large))
  t.is(written.at(-1), 0x65)
})

test('a missing folder is reported for the file asked for, not its temporary file, with the errno code', async (t) => {
  const folder = tempDir(t)
  const path = join(folder, 'gone', 'a.torrent')
  const error = await t.throwsAsync(writeFileAtomic(path, 'data'))
  t.is(error?.message, `cannot write ${path}: the folder ${join(folder, 'gone')} does not exist`)
  t.is((error as NodeJS.ErrnoException).code, 'ENOENT')
  t.is((error as NodeJS.ErrnoException).path, path)
  t.deepEqual(readdirSync(folder), [])
})

test('other failures name the file asked for and keep their code', async (t) => {
  const folder = tempDir(t)
  const path = join(folder, 'a.torrent')
  // A folder where the file should go: the temporary file is written, the rename fails.
  mkdirSync(join(path, 'inside'), { recursive: true })
  const error = await t.throwsAsync(writeFileAtomic(path, 'data'))
  t.is(error?.message, `cannot write ${path}: illegal operation on a directory (EISDIR)`)
  t.is((error as NodeJS.ErrnoException).code, 'EISDIR')
  t.deepEqual(readdirSync(folder), ['a.torrent'], 'the temporary file is removed')
})
