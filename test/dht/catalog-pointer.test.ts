import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import test from 'ava'
import { CatalogPointer, type MutableStore } from '../../appliance/dht/catalog-pointer.js'
import { pointerValue, type MutableItem } from '../../appliance/dht/mutable-item.js'
import type { BoxKey } from '../../appliance/identity/box-key.js'
import type { InfoHash } from '../../appliance/metainfo/metainfo.js'
import { tempDir } from '../helpers/temp-dir.js'
import { newBoxKey, OneNodeDht, signedReply } from './signed-items.js'

const ih = (byte: number): InfoHash => Buffer.alloc(20, byte).toString('hex') as InfoHash

async function startPointer (t: { teardown: (fn: () => Promise<void>) => void }, dht: MutableStore, key: BoxKey, stateFile: string): Promise<CatalogPointer> {
  const pointer = new CatalogPointer({ dht, publicKey: key.publicKey, sign: key.sign, stateFile, republishMs: 3_600_000 })
  await pointer.start()
  t.teardown(async () => { await pointer.close() })
  return pointer
}

async function settle (pointer: CatalogPointer): Promise<void> {
  // The work queued so far (close() skips what is still queued).
  await (pointer as unknown as { queue: Promise<void> }).queue
}

test('each new catalog takes the next seq, saved before the put; the same catalog keeps its seq', async (t) => {
  const key = newBoxKey()
  const dht = new OneNodeDht()
  const stateFile = join(tempDir(t), 'catalog-pointer.json')
  const pointer = await startPointer(t, dht, key, stateFile)
  pointer.point(ih(1))
  await settle(pointer)
  t.is(dht.stored?.seq, 1)
  t.deepEqual(dht.stored?.v, pointerValue(ih(1)))
  t.is(JSON.parse(readFileSync(stateFile, 'utf8')).seq, 1)
  pointer.point(ih(1))
  pointer.point(ih(2))
  await settle(pointer)
  t.is(dht.stored?.seq, 2)
  t.is(pointer.snapshot().seq, 2)
  t.is(pointer.snapshot().infoHash, ih(2))
  t.deepEqual(dht.puts.map((item) => item.seq), [1, 1, 2], 'the same catalog again is put again under its seq (a republish), not a new one')
})

test('a restart continues from the saved seq, never below it', async (t) => {
  const key = newBoxKey()
  const dht = new OneNodeDht()
  const stateFile = join(tempDir(t), 'catalog-pointer.json')
  const first = await startPointer(t, dht, key, stateFile)
  for (const byte of [1, 2, 3]) first.point(ih(byte))
  await settle(first)
  await first.close()
  const second = await startPointer(t, dht, key, stateFile)
  second.point(ih(3))
  await settle(second)
  t.is(second.snapshot().seq, 3, 'same catalog: same seq')
  second.point(ih(4))
  await settle(second)
  t.is(dht.stored?.seq, 4)
})

test('with its state file lost or damaged, the seq continues above what the DHT holds for the key', async (t) => {
  const key = newBoxKey()
  const dht = new OneNodeDht()
  dht.stored = signedReply(key, 41, pointerValue(ih(9))) as MutableItem
  const stateFile = join(tempDir(t), 'catalog-pointer.json')
  writeFileSync(stateFile, '{"version": 1, "seq": "oops"}')
  const pointer = await startPointer(t, dht, key, stateFile)
  pointer.point(ih(1))
  await settle(pointer)
  t.is(dht.stored.seq, 42)
  t.deepEqual(dht.stored.v, pointerValue(ih(1)))
})

test('a state file older than the DHT (restored from a backup): the 302 answer leads above the DHT\'s seq', async (t) => {
  const key = newBoxKey()
  const dht = new OneNodeDht()
  const stateFile = join(tempDir(t), 'catalog-pointer.json')
  const first = await startPointer(t, dht, key, stateFile)
  first.point(ih(1))
  await settle(first)
  await first.close()
  const backup = readFileSync(stateFile)
  const again = await startPointer(t, dht, key, stateFile)
  for (const byte of [2, 3, 4]) again.point(ih(byte))
  await settle(again)
  await again.close()
  writeFileSync(stateFile, backup)
  const restored = await startPointer(t, dht, key, stateFile)
  restored.point(ih(5))
  await settle(restored)
  t.is(dht.stored?.seq, 5)
  t.deepEqual(dht.stored?.v, pointerValue(ih(5)))
  t.is(JSON.parse(readFileSync(stateFile, 'utf8')).seq, 5)
})
