import test from 'ava'
import { BlockCache } from '../../appliance/seeder/block-cache.js'

test('keeps spans within its byte budget, dropping the least recently used', (t) => {
  const cache = new BlockCache(300)
  cache.set('t', 'a', Buffer.alloc(100))
  cache.set('t', 'b', Buffer.alloc(100))
  cache.set('t', 'c', Buffer.alloc(100))
  t.truthy(cache.get('t', 'a'))
  cache.set('t', 'd', Buffer.alloc(100))
  t.is(cache.size, 300)
  t.truthy(cache.get('t', 'a'))
  t.is(cache.get('t', 'b'), undefined)
  cache.set('t', 'e', Buffer.alloc(250))
  t.true(cache.size <= 300)
  t.truthy(cache.get('t', 'e'))
})

test('replacing a key does not count it twice; a span over budget is not kept', (t) => {
  const cache = new BlockCache(300)
  cache.set('t', 'a', Buffer.alloc(200))
  cache.set('t', 'a', Buffer.alloc(200))
  t.is(cache.size, 200)
  cache.set('t', 'huge', Buffer.alloc(301))
  t.is(cache.get('t', 'huge'), undefined)
  t.is(cache.size, 200)
})

test('forgets every span of one owner only', (t) => {
  const cache = new BlockCache(1000)
  cache.set('x', '1', Buffer.alloc(10))
  cache.set('y', '1', Buffer.alloc(10))
  cache.set('x', '2', Buffer.alloc(10))
  cache.forget('x')
  t.is(cache.get('x', '1'), undefined)
  t.is(cache.get('x', '2'), undefined)
  t.truthy(cache.get('y', '1'))
  t.is(cache.size, 10)
})

test('the memory of evicted spans is read into again, within an eighth of the budget per size; forgotten spans are not', (t) => {
  const cache = new BlockCache(8 * 100)
  const spans = Array.from({ length: 9 }, () => cache.allocate(100))
  spans.forEach((span, index) => cache.set('t', String(index), span))
  // The ninth evicted the first: its memory is handed out again, once.
  t.is(cache.spareSize, 100)
  t.is(cache.allocate(100).buffer, spans[0]!.buffer)
  t.not(cache.allocate(100).buffer, spans[0]!.buffer)
  t.is(cache.spareSize, 0)
  // A part of a span (the shorter last one of a torrent) gives back its whole memory.
  const short = cache.allocate(100).subarray(0, 30)
  cache.set('u', 'last', short)
  for (let index = 9; index < 20; index++) cache.set('t', String(index), cache.allocate(100))
  t.is(cache.get('u', 'last'), undefined)
  t.is(cache.spareSize, 100, 'one span of 100 bytes: an eighth of the budget')
  t.is(cache.allocate(100).byteLength, 100)
  cache.forget('t')
  t.is(cache.size, 0)
  t.is(cache.spareSize, 0)
})
