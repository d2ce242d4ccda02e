import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import test from 'ava'
import { SeenPointers } from '../../appliance/dht/seen-pointers.js'
import { tempDir } from '../helpers/temp-dir.js'

const key = 'ab'.repeat(32)

test('the highest seq believed per box is kept across restarts, and never goes down', async (t) => {
  const file = join(tempDir(t), 'seen.json')
  const seen = await SeenPointers.open(file)
  t.is(seen.lastSeq(key), undefined)
  await seen.remember(key, 5)
  await seen.remember(key, 3)
  t.is(seen.lastSeq(key), 5)
  const reopened = await SeenPointers.open(file)
  t.is(reopened.lastSeq(key), 5)
  await t.throwsAsync(reopened.remember('xyz', 1), { instanceOf: RangeError })
})

test('a damaged record is an error, not a fresh start (that would let a replayed item in)', async (t) => {
  const file = join(tempDir(t), 'seen.json')
  for (const text of ['nope', '{"version": 2, "seqs": {}}', `{"version": 1, "seqs": {"${key}": -1}}`, '{"version": 1, "seqs": {"short": 1}}']) {
    writeFileSync(file, text)
    const error = await t.throwsAsync(SeenPointers.open(file))
    t.is((error as NodeJS.ErrnoException).code, 'ET_SEEN_POINTERS', text)
  }
})
