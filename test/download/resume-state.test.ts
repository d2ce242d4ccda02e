import test from 'ava'
import { join } from 'node:path'
import { writeFileSync } from 'node:fs'
import { decodeResume, encodeResume, ResumeFile } from '../../appliance/download/resume-state.js'
import type { InfoHash } from '../../appliance/metainfo/metainfo.js'
import { tempDir } from '../helpers/temp-dir.js'

const HASH = 'ab'.repeat(20) as InfoHash
const OTHER = 'cd'.repeat(20) as InfoHash

test('a state file reads back as the bitfield written', (t) => {
  const bitfield = Uint8Array.of(0b10100000, 0b11000000)
  t.deepEqual(decodeResume(encodeResume(HASH, 10, bitfield), HASH, 10), bitfield)
})

test('a state file cut short at any length, or with any one byte changed, is no record at all', (t) => {
  const whole = encodeResume(HASH, 100, new Uint8Array(13).fill(0xff))
  for (let length = 0; length < whole.length; length++) t.is(decodeResume(whole.subarray(0, length), HASH, 100), undefined, `cut at ${length}`)
  for (let at = 0; at < whole.length; at++) {
    const changed = Buffer.from(whole)
    changed[at]! ^= 0x01
    t.is(decodeResume(changed, HASH, 100), undefined, `byte ${at} changed`)
  }
})

test('a state file of another torrent, or of another piece count, is no record', (t) => {
  const bytes = encodeResume(HASH, 16, Uint8Array.of(0xff, 0xff))
  t.is(decodeResume(bytes, OTHER, 16), undefined)
  t.is(decodeResume(bytes, HASH, 15), undefined)
})

test('ResumeFile: none yet is undefined; saved reads back; garbage is undefined', async (t) => {
  const path = join(tempDir(t), 'state')
  const file = new ResumeFile(path, HASH, 8)
  t.is(await file.load(), undefined)
  await file.save(Uint8Array.of(0x81))
  t.deepEqual(await file.load(), Uint8Array.of(0x81))
  writeFileSync(path, 'not a state file')
  t.is(await file.load(), undefined)
})
