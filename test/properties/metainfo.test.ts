import assert from 'node:assert/strict'
import test from 'ava'
import bencode from 'bencode'
import fc from 'fast-check'
import { dictionaryEntries, endOfValue, withEntry } from '../../appliance/metainfo/bencode-span.js'
import { MetainfoError } from '../../appliance/metainfo/errors.js'
import { FileListingBuilder } from '../../appliance/metainfo/file-listing.js'
import { buildMetainfo, encodeTorrent, parseTorrent, type MetainfoFields } from '../../appliance/metainfo/metainfo.js'
import { inTreeOrder, pieceAlignedLayout } from '../../appliance/metainfo/piece-alignment.js'
import { mutated, propertyOptions, refusesOnlyWith } from './properties.js'

const isRefusal = (error: unknown): boolean => error instanceof MetainfoError && error.code === 'ET_BAD_TORRENT'
const CONTROL = /[\u0000-\u001f\u007f]/

/** A name or path segment that parseTorrent must take: any text but "", ".", "..", "/" and control characters. */
const segment = fc.string({ unit: 'binary', minLength: 1, maxLength: 12 })
  .filter((text) => text !== '.' && text !== '..' && !text.includes('/') && !CONTROL.test(text))
const text = fc.string({ unit: 'binary', maxLength: 30 })

/** Every field a torrent we make can have, with pieces to match the total size. */
const fields: fc.Arbitrary<MetainfoFields> = fc.record({
  name: segment,
  pieceLength: fc.integer({ min: 14, max: 24 }).map((log) => 2 ** log),
  files: fc.oneof(
    fc.nat(2 ** 26).map((length) => [{ path: [] as string[], length }]),
    fc.array(fc.record({ path: fc.array(segment, { minLength: 1, maxLength: 3 }), length: fc.nat(2 ** 24) }), { minLength: 1, maxLength: 5 })
  ),
  announceList: fc.array(fc.array(text, { maxLength: 3 }), { maxLength: 3 }),
  urlList: fc.array(text, { maxLength: 3 }),
  private: fc.boolean(),
  comment: fc.option(text, { nil: undefined }),
  source: fc.option(text, { nil: undefined }),
  createdBy: fc.option(text, { nil: undefined }),
  creationDate: fc.option(fc.maxSafeNat(), { nil: undefined })
}).chain((partial) => {
  const total = partial.files.reduce((sum, file) => sum + file.length, 0)
  const count = Math.ceil(total / partial.pieceLength)
  // Digests of one repeated byte: random bytes for up to 80 KB of digests cost more than the parsing under test.
  return fc.nat(255).map((byte) => ({ ...partial, pieces: Buffer.alloc(count * 20, byte) }))
})

const torrents = fields.map((value) => encodeTorrent(buildMetainfo(value)))

/** Bencoded values shaped like torrents: the keys parseTorrent reads, at any depth, holding anything. */
const KEYS = ['info', 'name', 'files', 'path', 'length', 'piece length', 'pieces', 'private', 'source', 'announce', 'announce-list', 'url-list', 'comment', 'created by', 'creation date', '__proto__', 'x']
const { value: bencodable } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.integer({ min: -(2 ** 40), max: 2 ** 40 }),
    fc.uint8Array({ maxLength: 40 }),
    segment.map((name) => Buffer.from(name)),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.constantFrom(...KEYS), tie('value'), { maxKeys: 5 })
  )
}))

/**
 * Hybrid and v2 torrents (BEP 52) of any files: listed in file tree order as `createTorrentOf` lists
 * them, with made-up digests (a piece layer is any 32 bytes per piece; the roots follow from it).
 */
const treeFields: fc.Arbitrary<MetainfoFields> = fc.record({
  name: segment,
  format: fc.constantFrom('hybrid' as const, 'v2' as const),
  pieceLength: fc.integer({ min: 14, max: 17 }).map((log) => 2 ** log),
  files: fc.oneof(
    fc.integer({ min: 1, max: 2 ** 20 }).map((length) => [{ path: [] as string[], length }]),
    fc.uniqueArray(fc.record({ path: fc.array(segment, { minLength: 1, maxLength: 3 }), length: fc.nat(2 ** 19) }), { minLength: 1, maxLength: 5, selector: (file) => file.path.join('/') })
      // A path cannot be a file and a folder at once.
      .filter((files) => files.every((file) => files.every((other) => !other.path.join('/').startsWith(`${file.path.join('/')}/`))))
      // Content without a byte is never made (ET_EMPTY).
      .filter((files) => files.some((file) => file.length > 0))
  ),
  private: fc.boolean(),
  layerByte: fc.nat(255)
})
  // BEP 52 cannot tell a v2-only torrent of a folder holding one file of the folder's name from one of that file alone.
  .filter(({ format, name, files }) => format !== 'v2' || files.length !== 1 || files[0]!.path.join('/') !== name)
  .map(({ files, layerByte, ...rest }) => {
  const builder = new FileListingBuilder('/content/', false, Infinity)
  for (const file of files) builder.add(file.path.join('/'), file.length, 0, 0)
  const listing = inTreeOrder(builder.finish())
  const pieces = pieceAlignedLayout(listing.data.sizes, rest.pieceLength).totalBytes / rest.pieceLength
  const pieceLayer = Buffer.alloc(Math.ceil(pieces) * 32)
  for (let index = 0; index < pieceLayer.length; index++) pieceLayer[index] = (layerByte + index * 7) & 0xff
  return { ...rest, files: listing, pieceLayer, pieces: Buffer.alloc(rest.format === 'v2' ? 0 : Math.ceil(pieces) * 20, layerByte) }
})

test('a hybrid or v2 torrent we make parses back to itself, its files on piece boundaries', (t) => {
  fc.assert(fc.property(treeFields, (value) => {
    const built = buildMetainfo(value)
    assert.deepEqual(parseTorrent(encodeTorrent(built)), built)
    for (const file of built.files) if (built.files.length > 1) assert.equal(file.offset % built.pieceLength, 0)
  }), propertyOptions(150))
  t.pass()
})

test('a mutated hybrid or v2 torrent is refused with ET_BAD_TORRENT, or read with safe names and encodes back to itself', (t) => {
  fc.assert(fc.property(mutated(treeFields.map((value) => encodeTorrent(buildMetainfo(value)))), (bytes) => refusesOnlyWith(isRefusal, () => {
    const parsed = parseTorrent(bytes)
    for (const name of [parsed.name, ...[...parsed.files].flatMap((file) => file.path)]) {
      assert.ok(name !== '' && name !== '.' && name !== '..' && !name.includes('/') && !CONTROL.test(name), `an unsafe name was accepted: ${JSON.stringify(name)}`)
    }
    assert.deepEqual(parseTorrent(encodeTorrent(parsed)), parsed)
  })), propertyOptions(1000))
  t.pass()
})

test('a torrent we make parses back to itself', (t) => {
  fc.assert(fc.property(fields, (value) => {
    const built = buildMetainfo(value)
    assert.deepEqual(parseTorrent(encodeTorrent(built)), built)
  }), propertyOptions(150))
  t.pass()
})

test('parseTorrent throws nothing but ET_BAD_TORRENT on arbitrary bytes', (t) => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => refusesOnlyWith(isRefusal, () => parseTorrent(bytes))), propertyOptions(500))
  t.pass()
})

test('parseTorrent throws nothing but ET_BAD_TORRENT on bencoded values shaped like torrents', (t) => {
  fc.assert(fc.property(bencodable, (value) => refusesOnlyWith(isRefusal, () => parseTorrent(bencode.encode(value)))), propertyOptions(500))
  t.pass()
})

test('a torrent with one field replaced by any bencoded value is refused with ET_BAD_TORRENT or read', (t) => {
  const FIELDS = [['info'], ['info', 'name'], ['info', 'pieces'], ['info', 'piece length'], ['info', 'length'], ['info', 'files'],
    ['info', 'files', 0], ['info', 'files', 0, 'path'], ['info', 'files', 0, 'length'], ['info', 'private'], ['info', 'source'],
    ['announce'], ['announce-list'], ['url-list'], ['comment'], ['creation date']]
  fc.assert(fc.property(fields, fc.constantFrom(...FIELDS), bencodable, (value, path, replacement) => {
    const torrent = bencode.decode(encodeTorrent(buildMetainfo(value)))
    let holder = torrent
    for (const key of path.slice(0, -1)) holder = holder?.[key]
    if (typeof holder === 'object' && holder !== null) holder[path.at(-1)!] = replacement
    return refusesOnlyWith(isRefusal, () => parseTorrent(bencode.encode(torrent)))
  }), propertyOptions(500))
  t.pass()
})

test('a mutated torrent is refused with ET_BAD_TORRENT, or read with safe names and encodes back to itself', (t) => {
  fc.assert(fc.property(mutated(torrents), (bytes) => refusesOnlyWith(isRefusal, () => {
    const parsed = parseTorrent(bytes)
    for (const name of [parsed.name, ...[...parsed.files].flatMap((file) => file.path)]) {
      assert.ok(name !== '' && name !== '.' && name !== '..' && !name.includes('/') && !CONTROL.test(name), `an unsafe name was accepted: ${JSON.stringify(name)}`)
    }
    assert.deepEqual(parseTorrent(encodeTorrent(parsed)), parsed)
  })), propertyOptions(1000))
  t.pass()
})

test('a control character anywhere in the name or a path segment is refused', (t) => {
  const control = fc.oneof(fc.integer({ min: 0, max: 0x1f }), fc.constant(0x7f)).map((code) => String.fromCharCode(code))
  const withControl = fc.tuple(segment, control, fc.nat()).map(([name, character, at]) => {
    const position = at % (name.length + 1)
    return name.slice(0, position) + character + name.slice(position)
  })
  fc.assert(fc.property(fields, withControl, fc.boolean(), (value, bad, inName) => {
    const multi = (value.files as Array<{ path: string[], length: number }>)[0]!.path.length > 0
    const changed = inName || !multi
      ? { ...value, name: bad }
      : { ...value, files: (value.files as Array<{ path: string[], length: number }>).map((file, index) => index === 0 ? { ...file, path: [...file.path.slice(1), bad] } : file) }
    assert.throws(() => parseTorrent(encodeTorrent(buildMetainfo(changed))), (error) => {
      return error instanceof MetainfoError && error.code === 'ET_BAD_TORRENT' && /control character U\+(00[01][0-9A-F]|007F)$/.test(error.message)
    })
  }), propertyOptions(150))
  t.pass()
})

test('a string or integer of any length is refused at once, without reading or allocating it', (t) => {
  // 2^53 and beyond: a length past the input is refused before any of it is read.
  const huge = fc.bigInt({ min: 301n, max: 2n ** 80n })
  fc.assert(fc.property(huge, fc.uint8Array({ maxLength: 300 }), (length, rest) => {
    const bytes = Buffer.concat([Buffer.from(`d4:info${length}:`), rest])
    assert.equal(endOfValue(bytes, 0), -1)
    assert.throws(() => parseTorrent(bytes), (error) => isRefusal(error))
  }), propertyOptions(200))
  t.pass()
})

test('endOfValue finds the end of any bencoded value, whatever follows it', (t) => {
  fc.assert(fc.property(bencodable, fc.uint8Array({ maxLength: 20 }), (value, after) => {
    const encoded = Buffer.from(bencode.encode(value))
    assert.equal(endOfValue(Buffer.concat([encoded, after]), 0), encoded.length)
  }), propertyOptions(300))
  t.pass()
})

test('endOfValue refuses every encoding cut short, wherever it is cut', (t) => {
  fc.assert(fc.property(bencodable, fc.nat(), (value, at) => {
    const encoded = Buffer.from(bencode.encode(value))
    assert.equal(endOfValue(encoded.subarray(0, at % encoded.length), 0), -1)
  }), propertyOptions(300))
  t.pass()
})

test('dictionaryEntries gives each key and the exact bytes of its value', (t) => {
  const dictionary = fc.dictionary(fc.string({ unit: 'binary', maxLength: 8 }), bencodable, { maxKeys: 6 })
  fc.assert(fc.property(dictionary, (value) => {
    const encoded = Buffer.from(bencode.encode(value))
    const entries = dictionaryEntries(encoded)!
    assert.deepEqual(entries.map((entry) => entry.key.toString()).sort(), Object.keys(value).sort())
    for (const entry of entries) {
      assert.deepEqual(Buffer.from(encoded.subarray(entry.valueStart, entry.valueEnd)), Buffer.from(bencode.encode(value[entry.key.toString()])))
    }
  }), propertyOptions(300))
  t.pass()
})

test('withEntry adds an encoded value where BEP 3 sorts its key', (t) => {
  const dictionary = fc.dictionary(fc.string({ unit: 'grapheme-ascii', maxLength: 8 }), bencodable, { maxKeys: 6 })
  fc.assert(fc.property(dictionary, fc.string({ unit: 'grapheme-ascii', maxLength: 8 }), bencodable, (value, key, added) => {
    fc.pre(!(key in value))
    const spliced = withEntry(Buffer.from(bencode.encode(value)), key, bencode.encode(added))
    assert.deepEqual(spliced, Buffer.from(bencode.encode({ ...value, [key]: added })))
  }), propertyOptions(300))
  t.pass()
})
