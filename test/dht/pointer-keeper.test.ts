import test from 'ava'
import type { MutableStore } from '../../appliance/dht/catalog-pointer.js'
import { pointerValue, type MutableItem } from '../../appliance/dht/mutable-item.js'
import { PointerKeeper } from '../../appliance/dht/pointer-keeper.js'
import { chooseCatalogPointer, type MutableReply } from '../../appliance/dht/resolve-catalog-pointer.js'
import type { InfoHash } from '../../appliance/metainfo/metainfo.js'
import { newBoxKey, OneNodeDht, signedReply } from './signed-items.js'

const HOUR = 3_600_000
const ih = (byte: number): InfoHash => Buffer.alloc(20, byte).toString('hex') as InfoHash

const box = newBoxKey()

/** The box's item as a follower believes it: signed by the box, chosen from a lookup's answers. */
function believed (seq: number): MutableItem {
  return chooseCatalogPointer([signedReply(box, seq, pointerValue(ih(seq)))], box.publicKey).found!.item
}

test('the box\'s item is put unchanged at once, then again only once an hour has passed, also when no lookup finds it any more', async (t) => {
  const clock = { now: 0 }
  const node = new OneNodeDht()
  const keeper = new PointerKeeper({ dht: node, republishMs: HOUR, now: () => clock.now })
  const item = believed(3)
  await keeper.keepAlive(item)
  t.is(node.puts.length, 1)
  t.deepEqual(node.stored, item, 'as the box signed it: the node checked its signature by the box\'s key')
  clock.now += HOUR - 1
  await keeper.keepAlive(item)
  t.is(node.puts.length, 1, 'not before the hour')
  // The box is gone and the nodes forgot its item: lookups find nothing, the follower still has it.
  node.stored = undefined
  clock.now += 1
  await keeper.keepAlive(undefined)
  t.is(node.puts.length, 2)
  t.deepEqual(node.stored, item)
})

test('a newer item replaces the kept one and is put at once; an older one changes nothing', async (t) => {
  const clock = { now: 0 }
  const node = new OneNodeDht()
  const keeper = new PointerKeeper({ dht: node, republishMs: HOUR, now: () => clock.now })
  await keeper.keepAlive(believed(3))
  await keeper.keepAlive(believed(2))
  t.is(keeper.kept?.seq, 3)
  t.is(node.puts.length, 1)
  await keeper.keepAlive(believed(4))
  t.deepEqual(node.puts.map((item) => item.seq), [3, 4])
  t.is(node.stored?.seq, 4)
})

test('a failed put is tried at the next call; every node holding the item already (302) counts as put', async (t) => {
  const clock = { now: 0 }
  let fail = true
  const node = new OneNodeDht()
  const flaky: MutableStore = {
    putMutable: async (item) => { if (fail) throw new Error('no node answered'); return await node.putMutable(item) },
    getMutable: async (): Promise<MutableReply[]> => await node.getMutable()
  }
  const keeper = new PointerKeeper({ dht: flaky, republishMs: HOUR, now: () => clock.now })
  const item = believed(5)
  await keeper.keepAlive(item)
  t.is(node.stored, undefined)
  fail = false
  await keeper.keepAlive(item)
  t.deepEqual(node.stored, item, 'tried again')
  clock.now += HOUR
  await keeper.keepAlive(item)
  t.is(node.puts.length, 2, 'the node answered 302: it holds this item')
  clock.now += 1
  await keeper.keepAlive(item)
  t.is(node.puts.length, 2, 'and that counts as put: not asked again within the hour')
})

test('calls while a put is under way start no second put', async (t) => {
  let release: () => void = () => {}
  const puts: MutableItem[] = []
  const slow: MutableStore = {
    putMutable: async (item) => {
      puts.push(item)
      await new Promise<void>((resolve) => { release = resolve })
      return 1
    },
    getMutable: async () => []
  }
  const keeper = new PointerKeeper({ dht: slow, republishMs: HOUR })
  const first = keeper.keepAlive(believed(1))
  await keeper.keepAlive(believed(1))
  await keeper.keepAlive()
  t.is(puts.length, 1)
  release()
  await first
})
