import fc from 'fast-check'
import test from 'ava'
import { isWellFormedKrpc } from '../../appliance/dht/krpc-message.js'
import { chooseCatalogPointer, type MutableReply } from '../../appliance/dht/resolve-catalog-pointer.js'
import { parseCatalogDocument } from '../../appliance/identity/catalog-document.js'
import { IdentityError } from '../../appliance/identity/errors.js'
import { propertyOptions, refusesOnlyWith } from './properties.js'
import bencode from 'bencode'

// What a follower is handed by strangers: DHT answers to a get, and the catalog document a box serves.

const publicKey = Buffer.alloc(32, 9)
const value = fc.oneof(fc.uint8Array({ maxLength: 40 }), fc.integer(), fc.string(), fc.dictionary(fc.string({ maxLength: 4 }), fc.uint8Array({ maxLength: 24 })), fc.array(fc.integer(), { maxLength: 3 }))

test('any answers to a get: chosen or refused, never an exception, never a pointer without a valid signature', (t) => {
  const reply = fc.record({
    k: fc.oneof(fc.constant(publicKey), fc.uint8Array({ minLength: 32, maxLength: 32 }), value),
    seq: fc.oneof(fc.integer({ min: -2, max: 2 ** 40 }), fc.double(), value),
    v: value,
    sig: fc.oneof(fc.uint8Array({ minLength: 64, maxLength: 64 }), value),
    from: fc.constant('x:1')
  }, { requiredKeys: ['from'] })
  fc.assert(fc.property(fc.array(reply, { maxLength: 8 }), fc.option(fc.nat(), { nil: undefined }), (replies, lastSeen) => {
    const { found, refused } = chooseCatalogPointer(replies as MutableReply[], publicKey, lastSeen)
    // No random signature verifies: everything is refused.
    return found === undefined && refused.length === replies.length
  }), propertyOptions(2000))
  t.pass()
})

test('any bencoded BEP 44 message: isWellFormedKrpc answers, never throws', (t) => {
  const message = fc.record({ t: fc.constant('aa'), y: fc.constantFrom('q', 'r'), q: fc.constantFrom('get', 'put'), a: fc.dictionary(fc.constantFrom('id', 'target', 'token', 'v', 'k', 'sig', 'seq', 'salt', 'cas'), value), r: fc.dictionary(fc.constantFrom('id', 'token', 'v', 'k', 'sig', 'seq', 'nodes'), value) })
  fc.assert(fc.property(message, (m) => typeof isWellFormedKrpc(bencode.encode(m)) === 'boolean'), propertyOptions(2000))
  t.pass()
})

test('any bytes or JSON as a catalog document: parsed or refused with IdentityError', (t) => {
  const isRefusal = (error: unknown): boolean => error instanceof IdentityError && error.code === 'ET_CATALOG_DOCUMENT'
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => refusesOnlyWith(isRefusal, () => parseCatalogDocument(bytes))), propertyOptions(2000))
  const documentLike = fc.record({ version: fc.oneof(fc.constant(1), fc.jsonValue()), publicKey: fc.oneof(fc.constant('ab'.repeat(32)), fc.jsonValue()), items: fc.oneof(fc.array(fc.record({ infoHash: fc.oneof(fc.constant('a'.repeat(40)), fc.jsonValue()), name: fc.jsonValue(), size: fc.jsonValue() }), { maxLength: 4 }), fc.jsonValue()) })
  fc.assert(fc.property(documentLike, (document) => refusesOnlyWith(isRefusal, () => parseCatalogDocument(Buffer.from(JSON.stringify(document))))), propertyOptions(2000))
  t.pass()
})
