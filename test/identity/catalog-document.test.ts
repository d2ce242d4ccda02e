import test from 'ava'
import { encodeCatalogDocument, MAX_CATALOG_BYTES, MAX_CATALOG_ITEMS, parseCatalogDocument, type CatalogEntry } from '../../appliance/identity/catalog-document.js'
import { IdentityError } from '../../appliance/identity/errors.js'
import type { InfoHash } from '../../appliance/metainfo/metainfo.js'

const key = 'cd'.repeat(32)
const entry = (index: number, name = `item ${index}`): CatalogEntry => ({ infoHash: index.toString(16).padStart(40, '0') as InfoHash, name, size: index * 1000 })

test('a catalog round-trips, sorted by infohash whatever the order given: the same torrents, the same bytes', (t) => {
  const entries = [entry(3), entry(1, 'ünïcödé — name'), entry(2)]
  const { bytes, listed, omitted } = encodeCatalogDocument(key, entries)
  t.is(listed, 3)
  t.is(omitted, 0)
  t.deepEqual(parseCatalogDocument(bytes), { version: 1, publicKey: key, items: [entries[1], entries[2], entries[0]] })
  t.deepEqual(encodeCatalogDocument(key, [...entries].reverse()).bytes, bytes)
})

test('past its bounds, entries are left out and counted, and the document stays parseable', (t) => {
  const many = Array.from({ length: MAX_CATALOG_ITEMS + 5 }, (_, index) => entry(index))
  const byCount = encodeCatalogDocument(key, many)
  t.is(byCount.listed, MAX_CATALOG_ITEMS)
  t.is(byCount.omitted, 5)
  t.is(parseCatalogDocument(byCount.bytes).items.length, MAX_CATALOG_ITEMS)
  const long = Array.from({ length: 8000 }, (_, index) => entry(index, 'n'.repeat(1000)))
  const byBytes = encodeCatalogDocument(key, long)
  t.true(byBytes.bytes.length <= MAX_CATALOG_BYTES)
  t.true(byBytes.omitted > 0)
  t.is(parseCatalogDocument(byBytes.bytes).items.length, byBytes.listed)
})

test('a hostile catalog is refused with ET_CATALOG_DOCUMENT', (t) => {
  const good = { version: 1, publicKey: key, items: [{ infoHash: 'a'.repeat(40), name: 'x', size: 1 }] }
  const bad: Array<[string, unknown]> = [
    ['not JSON', 'nope'],
    ['an array', '[]'],
    ['version 2', { ...good, version: 2 }],
    ['no public key', { ...good, publicKey: undefined }],
    ['items not a list', { ...good, items: {} }],
    ['an upper-case infohash', { ...good, items: [{ infoHash: 'A'.repeat(40), name: 'x', size: 1 }] }],
    ['an empty name', { ...good, items: [{ infoHash: 'a'.repeat(40), name: '', size: 1 }] }],
    ['a negative size', { ...good, items: [{ infoHash: 'a'.repeat(40), name: 'x', size: -1 }] }],
    ['a fractional size', { ...good, items: [{ infoHash: 'a'.repeat(40), name: 'x', size: 1.5 }] }],
    ['an infohash twice', { ...good, items: [good.items[0], good.items[0]] }],
    ['too many items', { ...good, items: Array.from({ length: MAX_CATALOG_ITEMS + 1 }, () => good.items[0]) }]
  ]
  for (const [what, value] of bad) {
    const bytes = Buffer.from(typeof value === 'string' ? value : JSON.stringify(value))
    t.throws(() => parseCatalogDocument(bytes), { instanceOf: IdentityError }, what)
  }
  t.throws(() => parseCatalogDocument(Buffer.alloc(MAX_CATALOG_BYTES + 1, 0x20)), { instanceOf: IdentityError }, 'too large')
  t.throws(() => parseCatalogDocument(Buffer.from([0x22, 0xff, 0x22])), { instanceOf: IdentityError }, 'not UTF-8')
})
