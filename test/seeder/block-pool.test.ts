import test from 'ava'
import { BlockPool } from '../../appliance/seeder/block-pool.js'

const BLOCK = 16 * 1024

test('lends at most its capacity, in blocks, and lends a buffer given back again', (t) => {
  let released = 0
  const pool = new BlockPool(2 * BLOCK + 100, () => { released++ })
  const a = pool.take(BLOCK)!
  const b = pool.take(1000)!
  t.is(a.length, BLOCK)
  t.is(b.length, 1000)
  t.false(pool.available)
  t.is(pool.take(BLOCK), undefined)
  t.is(pool.lentBytes, 2 * BLOCK)
  pool.release(b)
  t.is(released, 1)
  t.true(pool.available)
  const c = pool.take(BLOCK)!
  t.is(c.buffer, b.buffer, 'the same memory, not a new buffer')
  t.is(pool.take(1), undefined)
})

test('giving a buffer back twice, or one it never lent, changes nothing', (t) => {
  const pool = new BlockPool(2 * BLOCK, () => {})
  const a = pool.take(BLOCK)!
  pool.release(a)
  pool.release(a)
  pool.release(Buffer.alloc(BLOCK))
  t.is(pool.lentBytes, 0)
  const first = pool.take(BLOCK)!
  const second = pool.take(BLOCK)!
  t.not(first.buffer, second.buffer, 'two takers never share memory')
  t.is(pool.take(BLOCK), undefined)
})

test('a block is at most 16 KiB; a capacity below one block still lends one', (t) => {
  const pool = new BlockPool(10, () => {})
  t.throws(() => pool.take(BLOCK + 1), { instanceOf: RangeError })
  t.truthy(pool.take(BLOCK))
  t.is(pool.take(BLOCK), undefined)
})
