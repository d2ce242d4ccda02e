import test from 'ava'
import { infoHashOfPointer, mutableTarget, pointerValue, signatureMessage, verifyMutableSignature } from '../../appliance/dht/mutable-item.js'
import type { InfoHash } from '../../appliance/metainfo/metainfo.js'

// BEP 44's test vectors (its private key is the 64-byte expanded form, which Node cannot sign with:
// the signatures are checked, and our own signing is checked by round trips in box-key.test.ts).
const publicKey = Buffer.from('77ff84905a91936367c01360803104f92432fcd904a43511876df5cdf3e7e548', 'hex')
const value = Buffer.from('Hello World!')
const vectors = [
  {
    what: 'test 1 (mutable)',
    salt: undefined,
    signed: '3:seqi1e1:v12:Hello World!',
    target: '4a533d47ec9c7d95b1ad75f576cffc641853b750',
    sig: '305ac8aeb6c9c151fa120f120ea2cfb923564e11552d06a5d856091e5e853cff1260d3f39e4999684aa92eb73ffd136e6f4f3ecbfda0ce53a1608ecd7ae21f01'
  },
  {
    what: 'test 2 (mutable with salt)',
    salt: Buffer.from('foobar'),
    signed: '4:salt6:foobar3:seqi1e1:v12:Hello World!',
    target: '411eba73b6f087ca51a3795d9c8c938d365e32c1',
    sig: '6834284b6b24c3204eb2fea824d82f88883a3d95e8b4a21b8c0ded553d17d17ddf9a8a7104b1258f30bed3787e6cb896fca78c58f8e03b5f18f14951a87d9a08'
  }
]

for (const vector of vectors) {
  test(`BEP 44 ${vector.what}: the bytes signed, the target, the signature`, (t) => {
    const message = signatureMessage({ seq: 1, v: value, salt: vector.salt })
    t.is(message.toString('latin1'), vector.signed)
    t.is(mutableTarget(publicKey, vector.salt).toString('hex'), vector.target)
    const sig = Buffer.from(vector.sig, 'hex')
    t.true(verifyMutableSignature(sig, message, publicKey))
    const flipped = Buffer.from(sig)
    flipped[10]! ^= 1
    t.false(verifyMutableSignature(flipped, message, publicKey), 'a flipped signature bit')
    t.false(verifyMutableSignature(sig, signatureMessage({ seq: 2, v: value, salt: vector.salt }), publicKey), 'another seq')
    const otherKey = Buffer.from(publicKey)
    otherKey[0]! ^= 1
    t.false(verifyMutableSignature(sig, message, otherKey), 'another key')
  })
}

test('BEP 46 test vectors: a public key (and salt) to its target', (t) => {
  const key = Buffer.from('8543d3e6115f0f98c944077a4493dcd543e49c739fd998550a1f614ab36ed63e', 'hex')
  t.is(mutableTarget(key).toString('hex'), 'cc3f9d90b572172053626f9980ce261a850d050b')
  t.is(mutableTarget(key, Buffer.from('6e', 'hex')).toString('hex'), '59ee7c2cb9b4f7eb1986ee2d18fd2fdb8a56554f')
})

test('verification refuses malformed inputs instead of throwing', (t) => {
  const sig = Buffer.from(vectors[0]!.sig, 'hex')
  const message = Buffer.from(vectors[0]!.signed)
  t.false(verifyMutableSignature(sig.subarray(0, 63), message, publicKey))
  t.false(verifyMutableSignature(sig, message, publicKey.subarray(0, 31)))
  t.false(verifyMutableSignature('x', message, publicKey))
  t.false(verifyMutableSignature(sig, 'text', publicKey))
  t.false(verifyMutableSignature(sig, message, 42))
  t.false(verifyMutableSignature(sig, message, Buffer.alloc(32, 0xff)), 'not a point of the curve')
})

test('the BEP 46 value: { ih: <20 bytes> }, and nothing else is taken for one', (t) => {
  const infoHash = 'ab'.repeat(20) as InfoHash
  t.is(signatureMessage({ seq: 3, v: pointerValue(infoHash) }).toString('latin1'), `3:seqi3e1:vd2:ih20:${Buffer.from(infoHash, 'hex').toString('latin1')}e`)
  t.is(infoHashOfPointer(pointerValue(infoHash)), infoHash)
  t.is(infoHashOfPointer({ ih: Buffer.alloc(20, 0xab), extra: 1 }), infoHash, 'fields of later versions are ignored')
  for (const v of [Buffer.alloc(20), 'x', 5, [Buffer.alloc(20)], { ih: Buffer.alloc(19) }, { ih: 'a'.repeat(20) }, { IH: Buffer.alloc(20) }, null]) {
    t.is(infoHashOfPointer(v), undefined, JSON.stringify(v))
  }
})
