import { setImmediate as nextTurn } from 'node:timers/promises'
import test from 'ava'
import { BlockPool } from '../../appliance/seeder/block-pool.js'
import { TokenBucket } from '../../appliance/seeder/token-bucket.js'
import { UploadScheduler, type UploadSource } from '../../appliance/seeder/upload-scheduler.js'

const BLOCK = 16384

class FakeSource implements UploadSource {
  readonly bucket: TokenBucket
  blocked = false

  constructor (readonly name: string, public queued: number, private readonly log: string[], rate = 0) {
    this.bucket = new TokenBucket(rate, BLOCK, 0)
  }

  get hasQueued (): boolean {
    return this.queued > 0
  }

  nextBlockLength (): number | undefined {
    return this.queued > 0 && !this.blocked ? BLOCK : undefined
  }

  /** The blocks it was handed and has not given back: as if queued on a socket that does not drain. */
  readonly held: Buffer[] = []

  sendNext (block: Buffer): void {
    this.queued--
    this.log.push(this.name)
    this.held.push(block)
  }
}

/** A pool that never runs out, for the tests about turns and rates. */
const plenty = (): BlockPool => new BlockPool(1024 * BLOCK, () => {})

async function settle (): Promise<void> {
  for (let i = 0; i < 3; i++) await nextTurn()
}

test('serves the sources with queued blocks in turn, one block each', async (t) => {
  const log: string[] = []
  const scheduler = new UploadScheduler(new TokenBucket(0, BLOCK, 0), plenty(), () => 0)
  t.teardown(() => scheduler.close())
  for (const [name, count] of [['a', 3], ['b', 1], ['c', 2]] as const) scheduler.add(new FakeSource(name, count, log))
  await settle()
  t.deepEqual(log, ['a', 'b', 'c', 'a', 'c', 'a'])
})

test('the global rate limit is shared fairly, and the turn order survives pauses', async (t) => {
  const log: string[] = []
  let now = 0
  // Four blocks a second, at most two in the bucket.
  const scheduler = new UploadScheduler(new TokenBucket(4 * BLOCK, BLOCK, 0), plenty(), () => now)
  t.teardown(() => scheduler.close())
  const sources = ['a', 'b', 'c'].map((name) => new FakeSource(name, 100, log))
  for (const source of sources) scheduler.add(source)
  await settle()
  t.deepEqual(log, ['a', 'b'])
  for (let second = 0; second < 10; second++) {
    now += 1000
    scheduler.wake()
    await settle()
  }
  const counts = sources.map((source) => 100 - source.queued)
  t.is(counts.reduce((sum, count) => sum + count, 0), 2 + 10 * 2)
  t.true(Math.max(...counts) - Math.min(...counts) <= 1, `served ${counts.join(', ')}`)
})

test('a peer over its own limit waits without holding up the others', async (t) => {
  const log: string[] = []
  const scheduler = new UploadScheduler(new TokenBucket(0, BLOCK, 0), plenty(), () => 0)
  t.teardown(() => scheduler.close())
  scheduler.add(new FakeSource('slow', 10, log, BLOCK))
  scheduler.add(new FakeSource('fast', 10, log))
  await settle()
  t.is(log.filter((name) => name === 'slow').length, 1)
  t.is(log.filter((name) => name === 'fast').length, 10)
})

test('a source that cannot send now is kept and served when woken', async (t) => {
  const log: string[] = []
  const scheduler = new UploadScheduler(new TokenBucket(0, BLOCK, 0), plenty(), () => 0)
  t.teardown(() => scheduler.close())
  const source = new FakeSource('a', 2, log)
  source.blocked = true
  scheduler.add(source)
  await settle()
  t.deepEqual(log, [])
  source.blocked = false
  scheduler.wake()
  await settle()
  t.deepEqual(log, ['a', 'a'])
})

test('no block is started while every buffer of the pool is out; each one given back lets one more go', async (t) => {
  const log: string[] = []
  let scheduler: UploadScheduler | undefined
  const pool = new BlockPool(3 * BLOCK, () => scheduler?.wake())
  scheduler = new UploadScheduler(new TokenBucket(0, BLOCK, 0), pool, () => 0)
  t.teardown(() => scheduler.close())
  const sources = ['a', 'b'].map((name) => new FakeSource(name, 5, log))
  for (const source of sources) scheduler.add(source)
  await settle()
  t.deepEqual(log, ['a', 'b', 'a'])
  t.is(pool.lentBytes, 3 * BLOCK)
  pool.release(sources[0]!.held.shift()!)
  await settle()
  t.deepEqual(log, ['a', 'b', 'a', 'b'])
  t.is(pool.lentBytes, 3 * BLOCK)
  for (const source of sources) for (const block of source.held.splice(0)) pool.release(block)
  await settle()
  t.is(log.length, 7)
  t.true(pool.lentBytes <= 3 * BLOCK)
})
