import test from 'ava'
import { pointerValue, mutableTarget } from '../../appliance/dht/mutable-item.js'
import { chooseCatalogPointer, resolveCatalogPointer } from '../../appliance/dht/resolve-catalog-pointer.js'
import type { InfoHash } from '../../appliance/metainfo/metainfo.js'
import { newBoxKey, signedReply } from './signed-items.js'

const box = newBoxKey()
const stranger = newBoxKey()
const ih = (byte: number): InfoHash => Buffer.alloc(20, byte).toString('hex') as InfoHash

test('the highest valid seq is believed', (t) => {
  const { found, refused } = chooseCatalogPointer([signedReply(box, 4, pointerValue(ih(4))), signedReply(box, 6, pointerValue(ih(6))), signedReply(box, 5, pointerValue(ih(5)))], box.publicKey)
  t.is(found?.infoHash, ih(6))
  t.is(found?.seq, 6)
  t.deepEqual(refused, [])
})

test('forged, stale, foreign and broken answers are refused, each with its reason, and the right one kept', (t) => {
  const genuine = signedReply(box, 7, pointerValue(ih(7)), 'genuine')
  const forgedSig = { ...signedReply(box, 9, pointerValue(ih(9)), 'forged'), sig: stranger.sign(Buffer.from('x')) }
  // Signed by the stranger over the box's value, and presented as the box's.
  const strangersSig = { ...signedReply(stranger, 10, pointerValue(ih(10)), 'stranger-signed'), k: box.publicKey }
  const replies = [
    forgedSig,
    strangersSig,
    signedReply(box, 3, pointerValue(ih(3)), 'stale'),
    signedReply(stranger, 11, pointerValue(ih(11)), 'foreign'),
    signedReply(box, 12, Buffer.alloc(20, 12), 'not-bep46'),
    signedReply(box, 13, { ih: Buffer.alloc(20), pad: Buffer.alloc(1000) }, 'oversize'),
    { k: box.publicKey, seq: '8', v: pointerValue(ih(8)), sig: Buffer.alloc(64), from: 'seq-a-string' },
    { k: box.publicKey, seq: -1, v: pointerValue(ih(8)), sig: Buffer.alloc(64), from: 'seq-negative' },
    { k: Buffer.alloc(5), seq: 8, v: pointerValue(ih(8)), sig: Buffer.alloc(64), from: 'short-key' },
    { seq: 8, v: pointerValue(ih(8)), from: 'no-key' },
    genuine
  ]
  const { found, refused } = chooseCatalogPointer(replies, box.publicKey, 5)
  t.deepEqual(found, { infoHash: ih(7), seq: 7, item: { k: box.publicKey, seq: 7, v: genuine.v, sig: genuine.sig as Buffer } })
  t.deepEqual(refused, [
    { from: 'forged', reason: 'bad-signature' },
    { from: 'stranger-signed', reason: 'bad-signature' },
    { from: 'stale', reason: 'stale-seq' },
    { from: 'foreign', reason: 'wrong-key' },
    { from: 'not-bep46', reason: 'not-bep46' },
    { from: 'oversize', reason: 'oversize' },
    { from: 'seq-a-string', reason: 'malformed' },
    { from: 'seq-negative', reason: 'malformed' },
    { from: 'short-key', reason: 'malformed' },
    { from: 'no-key', reason: 'malformed' }
  ])
})

test('the seq last seen is still believed (a republish), only a lower one is stale', (t) => {
  t.is(chooseCatalogPointer([signedReply(box, 5, pointerValue(ih(5)))], box.publicKey, 5).found?.seq, 5)
  t.is(chooseCatalogPointer([signedReply(box, 4, pointerValue(ih(4)))], box.publicKey, 5).found, undefined)
})

test('resolveCatalogPointer asks for SHA-1 of the key (no salt) and checks what comes back', async (t) => {
  const asked: Buffer[] = []
  const dht = {
    getMutable: async (target: Buffer) => {
      asked.push(target)
      return [signedReply(box, 2, pointerValue(ih(2))), { ...signedReply(box, 3, pointerValue(ih(3))), sig: Buffer.alloc(64) }]
    }
  }
  const { found, refused } = await resolveCatalogPointer(dht, box.publicKey)
  t.deepEqual(asked, [mutableTarget(box.publicKey)])
  t.is(found?.infoHash, ih(2))
  t.is(refused.length, 1)
  await t.throwsAsync(resolveCatalogPointer(dht, Buffer.alloc(31)), { instanceOf: RangeError })
})
