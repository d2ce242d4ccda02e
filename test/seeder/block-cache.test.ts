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
