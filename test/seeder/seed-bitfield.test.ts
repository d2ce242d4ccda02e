import test from 'ava'
import { isSeedBitfield, seedBitfield } from '../../appliance/seeder/seed-bitfield.js'

test('every piece is set and the spare bits are clear (BEP 3)', (t) => {
  t.deepEqual([...seedBitfield(1)], [0x80])
  t.deepEqual([...seedBitfield(8)], [0xff])
  t.deepEqual([...seedBitfield(10)], [0xff, 0xc0])
  t.deepEqual([...seedBitfield(15)], [0xff, 0xfe])
})

test('recognises a seed by its bitfield, ignoring spare bits', (t) => {
  t.true(isSeedBitfield(seedBitfield(10), 10))
  t.true(isSeedBitfield(Buffer.from([0xff, 0xff]), 10))
  t.false(isSeedBitfield(Buffer.from([0xff, 0x80]), 10))
  t.false(isSeedBitfield(Buffer.from([0xfe, 0xc0]), 10))
  t.false(isSeedBitfield(Buffer.from([0xff]), 10))
  t.true(isSeedBitfield(seedBitfield(16), 16))
})
