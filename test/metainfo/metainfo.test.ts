import { createHash } from 'node:crypto'
import test from 'ava'
import bencode from 'bencode'
import { MetainfoError } from '../../appliance/metainfo/errors.js'
import { buildMetainfo, encodeTorrent, parseTorrent, type InfoHash, type MetainfoFields } from '../../appliance/metainfo/metainfo.js'
import { pseudoRandomBytes } from '../helpers/content.js'

const sha1 = (bytes: Uint8Array): InfoHash => createHash('sha1').update(bytes).digest('hex') as InfoHash
const digests = (count: number): Buffer => pseudoRandomBytes(`pieces-${count}`, count * 20)

const multiFile: MetainfoFields = {
  name: 'ünïcødé',
  pieceLength: 32768,
  pieces: digests(3),
  files: [{ path: ['a', 'b.txt'], length: 40000 }, { path: ['empty'], length: 0 }, { path: ['日本語.txt'], length: 30000 }],
  announceList: [['http://t1.example/announce', 'http://t1b.example/announce'], ['udp://t2.example:6969']],
  urlList: ['http://w1.example/', 'http://w2.example/files/'],
  private: true,
  comment: 'a comment',
  source: 'SRC',
  createdBy: 'evertorrent/test',
  creationDate: 1700000000
}

test('the info dictionary of a single file is the BEP 3 bencoding, and the infohash its SHA-1', (t) => {
  const pieces = digests(2)
  const metainfo = buildMetainfo({ name: 'a.txt', pieceLength: 16384, pieces, files: [{ path: [], length: 20000 }] })
  const expected = Buffer.concat([
    Buffer.from('d6:lengthi20000e4:name5:a.txt12:piece lengthi16384e6:pieces40:'),
    pieces,
    Buffer.from('e')
  ])
  t.deepEqual(metainfo.infoBytes, expected)
  t.is(metainfo.infoHash, sha1(expected))
  t.false(metainfo.isMultiFile)
  t.deepEqual([...metainfo.files], [{ path: ['a.txt'], length: 20000, offset: 0 }])
  t.is(metainfo.pieceCount, 2)
})

test('the info dictionary of a folder lists files with length and path, plus private and source', (t) => {
  const pieces = digests(1)
  const metainfo = buildMetainfo({
    name: 'dir',
    pieceLength: 16384,
    pieces,
    files: [{ path: ['a', 'b'], length: 3 }, { path: ['c'], length: 0 }],
    private: true,
    source: 'S'
  })
  const expected = Buffer.concat([
    Buffer.from('d5:filesld6:lengthi3e4:pathl1:a1:beed6:lengthi0e4:pathl1:ceee4:name3:dir12:piece lengthi16384e6:pieces20:'),
    pieces,
    Buffer.from('7:privatei1e6:source1:Se')
  ])
  t.deepEqual(metainfo.infoBytes, expected)
  t.is(metainfo.infoHash, sha1(expected))
  t.deepEqual([...metainfo.files].map((file) => file.offset), [0, 3])
  t.is(metainfo.totalBytes, 3)
})

test('encodeTorrent writes the info dictionary byte for byte, and parseTorrent reads every field back', (t) => {
  const built = buildMetainfo(multiFile)
  const bytes = encodeTorrent(built)
  t.true(bytes.includes(Buffer.concat([Buffer.from('4:info'), built.infoBytes])))
  const parsed = parseTorrent(bytes)
  t.deepEqual(parsed, built)
  t.is(parsed.infoHash, sha1(built.infoBytes))
  const outer = bencode.decode(bytes) as Record<string, unknown>
  // In the file's own order: BEP 3 keys are sorted, and the info dictionary is spliced in among them.
  t.deepEqual(Object.keys(outer), ['announce', 'announce-list', 'comment', 'created by', 'creation date', 'info', 'url-list'])
  t.is(Buffer.from(outer.announce as Uint8Array).toString(), 'http://t1.example/announce')
})

test('a torrent without trackers or web seeds has no announce, announce-list or url-list', (t) => {
  const bytes = encodeTorrent(buildMetainfo({ name: 'x', pieceLength: 16384, pieces: digests(1), files: [{ path: [], length: 5 }] }))
  t.deepEqual(Object.keys(bencode.decode(bytes) as object), ['info'])
})

test('fields outside the info dictionary leave the infohash alone; private and source change it', (t) => {
  const base = { name: 'x', pieceLength: 16384, pieces: digests(1), files: [{ path: [], length: 5 }] }
  const plain = buildMetainfo(base).infoHash
  t.is(buildMetainfo({ ...base, announceList: [['http://t.example/']], urlList: ['http://w.example/'], comment: 'c', createdBy: 'me', creationDate: 1 }).infoHash, plain)
  const withPrivate = buildMetainfo({ ...base, private: true }).infoHash
  const withSource = buildMetainfo({ ...base, source: 'S' }).infoHash
  t.not(withPrivate, plain)
  t.not(withSource, plain)
  t.not(withSource, withPrivate)
})

test('parseTorrent reads a single-file torrent and a bare url-list string', (t) => {
  const info = { name: Buffer.from('a.bin'), 'piece length': 16384, pieces: digests(2), length: 16385 }
  const parsed = parseTorrent(bencode.encode({ announce: Buffer.from('http://t.example/a'), 'url-list': Buffer.from('http://w.example/a.bin'), info }))
  t.deepEqual(parsed.announceList, [['http://t.example/a']])
  t.deepEqual(parsed.urlList, ['http://w.example/a.bin'])
  t.deepEqual([...parsed.files], [{ path: ['a.bin'], length: 16385, offset: 0 }])
  t.false(parsed.isMultiFile)
  t.false(parsed.private)
  t.is(parsed.infoHash, sha1(bencode.encode(info)))
})

test('the infohash of a torrent made by another tool is the SHA-1 of its info bytes as they stand, even unsorted', (t) => {
  // Keys out of BEP 3 order and an unknown key: decoding and encoding again would give other bytes.
  const info = Buffer.concat([Buffer.from('d4:name5:a.bin6:pieces20:'), digests(1), Buffer.from('12:piece lengthi16384e6:lengthi100e1:zi0ee')])
  const bytes = Buffer.concat([Buffer.from('d8:announce18:http://t.example/a4:info'), info, Buffer.from('e')])
  const parsed = parseTorrent(bytes)
  t.is(parsed.infoHash, sha1(info))
  t.deepEqual(parsed.infoBytes, info)
  t.not(parsed.infoHash, sha1(bencode.encode(bencode.decode(info))))
  t.is(parsed.totalBytes, 100)
})

// Each case is a valid torrent with one thing broken.
const validInfo = (): Record<string, unknown> => ({
  name: Buffer.from('dir'),
  'piece length': 16384,
  pieces: digests(2),
  files: [{ length: 16384, path: [Buffer.from('a')] }, { length: 1, path: [Buffer.from('sub'), Buffer.from('b')] }]
})
const withInfo = (change: (info: Record<string, unknown>) => void): Uint8Array => {
  const info = validInfo()
  change(info)
  return bencode.encode({ info })
}
const withFile = (change: (file: Record<string, unknown>) => void): Uint8Array => withInfo((info) => {
  change((info.files as Array<Record<string, unknown>>)[1]!)
})

const hostile: Record<string, Uint8Array | string> = {
  'empty input': new Uint8Array(0),
  'not bencode': Buffer.from('this is not a torrent'),
  'an HTML page': Buffer.from('<html><body>404</body></html>'),
  'truncated bencode': bencode.encode({ info: validInfo() }).subarray(0, 60),
  'a negative string length (hangs a naive decoder)': Buffer.from('d4:infod4:name-3:abce6:lengthi1eee'),
  'a negative length deep inside': Buffer.concat([bencode.encode({ info: validInfo() }).subarray(0, 40), Buffer.from('-30:xe')]),
  'a dictionary with an integer key': Buffer.from('d4:infodi1e4:name4:name1:xee'),
  'a dictionary key without a value': Buffer.from('d4:infod4:nameee'),
  'an integer': Buffer.from('i42e'),
  'a list': Buffer.from('li1ei2ee'),
  'no info': bencode.encode({ announce: Buffer.from('http://t.example/') }),
  'info is a string': bencode.encode({ info: Buffer.from('x') }),
  'info is a list': bencode.encode({ info: [1, 2] }),
  'two info dictionaries': Buffer.concat([Buffer.from('d4:info'), bencode.encode(validInfo()), Buffer.from('4:info'), bencode.encode({ ...validInfo(), name: Buffer.from('other') }), Buffer.from('e')]),
  'no name': withInfo((info) => { delete info.name }),
  'name is an integer': withInfo((info) => { info.name = 5 }),
  'name is not UTF-8': withInfo((info) => { info.name = Buffer.from([0x66, 0xff]) }),
  'name is ..': withInfo((info) => { info.name = Buffer.from('..') }),
  'name is .': withInfo((info) => { info.name = Buffer.from('.') }),
  'name is empty': withInfo((info) => { info.name = Buffer.from('') }),
  'name has a slash': withInfo((info) => { info.name = Buffer.from('../etc') }),
  'no piece length': withInfo((info) => { delete info['piece length'] }),
  'piece length 0': withInfo((info) => { info['piece length'] = 0 }),
  'piece length not a power of two': withInfo((info) => { info['piece length'] = 20000 }),
  'piece length below 16 KiB': withInfo((info) => { info['piece length'] = 8192 }),
  'piece length above 16 MiB': withInfo((info) => { info['piece length'] = 2 ** 25 }),
  'negative piece length': withInfo((info) => { info['piece length'] = -16384 }),
  'piece length is a string': withInfo((info) => { info['piece length'] = Buffer.from('16384') }),
  'no pieces': withInfo((info) => { delete info.pieces }),
  'pieces not a multiple of 20': withInfo((info) => { info.pieces = digests(2).subarray(0, 39) }),
  'pieces is a list': withInfo((info) => { info.pieces = [digests(1), digests(1)] }),
  'one piece too many': withInfo((info) => { info.pieces = digests(3) }),
  'one piece too few': withInfo((info) => { info.pieces = digests(1) }),
  'neither length nor files': withInfo((info) => { delete info.files }),
  'files is a dictionary': withInfo((info) => { info.files = { a: 1 } }),
  'a file is a string': withInfo((info) => { info.files = [Buffer.from('a')] }),
  'a file without length': withFile((file) => { delete file.length }),
  'a negative file length': withFile((file) => { file.length = -1 }),
  'a file without path': withFile((file) => { delete file.path }),
  'an empty path': withFile((file) => { file.path = [] }),
  'a .. segment': withFile((file) => { file.path = [Buffer.from('..'), Buffer.from('..'), Buffer.from('etc'), Buffer.from('passwd')] }),
  'a .. segment in the middle': withFile((file) => { file.path = [Buffer.from('sub'), Buffer.from('..'), Buffer.from('b')] }),
  'a . segment': withFile((file) => { file.path = [Buffer.from('.'), Buffer.from('b')] }),
  'an empty segment': withFile((file) => { file.path = [Buffer.from('sub'), Buffer.from('')] }),
  'a segment with a slash': withFile((file) => { file.path = [Buffer.from('/etc/passwd')] }),
  'a segment that is not UTF-8': withFile((file) => { file.path = [Buffer.from([0xc3, 0x28])] }),
  'a segment that is an integer': withFile((file) => { file.path = [7] }),
  'announce-list of strings': bencode.encode({ info: validInfo(), 'announce-list': [Buffer.from('http://t.example/')] }),
  'url-list of integers': bencode.encode({ info: validInfo(), 'url-list': [1] }),
  'a negative creation date': bencode.encode({ info: { ...validInfo(), private: 1 }, 'creation date': -5 }),
  'a NUL in the name': withInfo((info) => { info.name = Buffer.from('a\0b') }),
  'a newline in the name': withInfo((info) => { info.name = Buffer.from('dir\n') }),
  'an escape sequence in the name': withInfo((info) => { info.name = Buffer.from('\x1b[2Jdir') }),
  'a DEL in the name': withInfo((info) => { info.name = Buffer.from('d\x7fir') }),
  'a NUL in a segment': withFile((file) => { file.path = [Buffer.from('sub'), Buffer.from('b\0.txt')] }),
  'a carriage return in a segment': withFile((file) => { file.path = [Buffer.from('sub\r'), Buffer.from('b')] }),
  // Strict BEP 3, found by the fuzzer: -0 read as an integer gave a torrent that did not encode back to itself.
  'an integer -0': Buffer.from(bencode.encode({ info: validInfo(), 'creation date': 1 })).toString('latin1').replace('i1e', 'i-0e'),
  'an integer with a leading zero': Buffer.from(bencode.encode({ info: validInfo() })).toString('latin1').replace('i16384e', 'i016384e'),
  // Readers disagree on a repeated key (libtorrent takes the first value, the bencode package the last).
  'a repeated key in the info dictionary': Buffer.concat([Buffer.from('d4:infod6:lengthi1e4:name1:a4:name1:b12:piece lengthi16384e6:pieces20:'), digests(1), Buffer.from('ee')]),
  'a repeated key at the top': Buffer.concat([Buffer.from('d7:comment1:a7:comment1:b4:infod6:lengthi1e4:name1:a12:piece lengthi16384e6:pieces20:'), digests(1), Buffer.from('ee')]),
  // A `__proto__` key gives the decoded dictionary a prototype: here one that makes it pass for a byte string.
  'pieces that are a dictionary whose __proto__ is a string': Buffer.concat([Buffer.from('d4:infod6:lengthi1e4:name1:a12:piece lengthi16384e6:piecesd9:__proto__20:'), digests(1), Buffer.from('eee')])
}

for (const [description, bytes] of Object.entries(hostile)) {
  test(`parseTorrent rejects ${description} with ET_BAD_TORRENT`, (t) => {
    const error = t.throws(() => parseTorrent(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes), { instanceOf: MetainfoError })
    t.is(error?.code, 'ET_BAD_TORRENT')
    t.regex(error?.message ?? '', /^invalid torrent: /)
  })
}

test('a control character in a name is refused with a message naming the field and the character', (t) => {
  const controls = [...Array.from({ length: 0x20 }, (_, code) => code), 0x7f]
  for (const code of controls) {
    const character = String.fromCharCode(code)
    const hex = code.toString(16).toUpperCase().padStart(4, '0')
    const inName = t.throws(() => parseTorrent(withInfo((info) => { info.name = Buffer.from(`a${character}b`) })), { instanceOf: MetainfoError })
    t.is(inName?.code, 'ET_BAD_TORRENT')
    t.is(inName?.message, `invalid torrent: info.name is not a safe file name: it contains the control character U+${hex}`)
    const inSegment = t.throws(() => parseTorrent(withFile((file) => { file.path = [Buffer.from('sub'), Buffer.from(`${character}b`)] })), { instanceOf: MetainfoError })
    t.is(inSegment?.code, 'ET_BAD_TORRENT')
    t.is(inSegment?.message, `invalid torrent: info.files[1].path is not a safe relative path: its segment 1 contains the control character U+${hex}`)
  }
  // Printable text from anywhere, and the C1 range, stays a name.
  for (const name of ['a b', 'été', '\u0080x', '😀']) t.is(parseTorrent(withInfo((info) => { info.name = Buffer.from(name) })).name, name)
})

test('a name keeps a leading byte-order mark, as other clients keep it in the file name', (t) => {
  t.is(parseTorrent(withInfo((info) => { info.name = Buffer.from('\ufeffdir') })).name, '\ufeffdir')
  t.deepEqual(parseTorrent(withFile((file) => { file.path = [Buffer.from('\ufeffb')] })).files.pathOf(1), ['\ufeffb'])
})

test('a __proto__ key is an unknown key, not the prototype of what parseTorrent reads', (t) => {
  // libtorrent reads this as the single file "a": the files list under __proto__ is no key of info.
  const bytes = Buffer.concat([
    Buffer.from('d4:infod9:__proto__d5:filesld6:lengthi1e4:pathl1:beeee6:lengthi1e4:name1:a12:piece lengthi16384e6:pieces20:'),
    digests(1),
    Buffer.from('ee')
  ])
  const parsed = parseTorrent(bytes)
  t.false(parsed.isMultiFile)
  t.deepEqual([...parsed.files], [{ path: ['a'], length: 1, offset: 0 }])
})

test('parseTorrent accepts the valid torrent the hostile cases are made from', (t) => {
  const parsed = parseTorrent(bencode.encode({ info: validInfo() }))
  t.deepEqual([...parsed.files].map((file) => file.path), [['a'], ['sub', 'b']])
  t.is(parsed.totalBytes, 16385)
})

test('parseTorrent never throws anything but ET_BAD_TORRENT on corrupted bytes', (t) => {
  const original = encodeTorrent(buildMetainfo(multiFile))
  const noise = pseudoRandomBytes('corruption', 3000 * 3)
  let rejected = 0
  for (let index = 0; index < 3000; index++) {
    const bytes = Buffer.from(original)
    const position = noise.readUInt16BE(index * 3) % bytes.length
    if (index % 3 === 0) bytes[position] = noise[index * 3 + 2]!
    const input = index % 3 === 1 ? bytes.subarray(0, position) : index % 3 === 2 ? Buffer.concat([bytes.subarray(0, position), bytes.subarray(position + 1)]) : bytes
    try {
      parseTorrent(input)
    } catch (error) {
      rejected += 1
      if (!(error instanceof MetainfoError) || error.code !== 'ET_BAD_TORRENT') {
        t.fail(`mutation ${index} threw ${String(error)}`)
        return
      }
    }
  }
  t.true(rejected > 1000)
})

test('a file list written by another tool, with keys of its own around length and path, reads the same files', (t) => {
  const info = {
    files: [
      { attr: 'x', length: 5, md5sum: 'f'.repeat(32), path: [Buffer.from('dir'), Buffer.from('a.bin')], 'path.utf-8': [Buffer.from('dir'), Buffer.from('a.bin')] },
      { 'a deep key': [[[[1]]], { nested: [2] }], length: 16_000, path: [Buffer.from('b')] }
    ],
    name: 'other',
    'piece length': 16_384,
    pieces: digests(1)
  }
  const parsed = parseTorrent(bencode.encode({ info }))
  t.deepEqual([...parsed.files], [{ path: ['dir', 'a.bin'], length: 5, offset: 0 }, { path: ['b'], length: 16_000, offset: 5 }])
  t.is(parsed.files.length, 2)
  t.is(parsed.files.offsetOf(1), 5)
  t.is(parsed.files.lengthOf(1), 16_000)
  t.deepEqual(parsed.files.pathOf(0), ['dir', 'a.bin'])
  t.is(parsed.files.at(2), undefined)
  t.is(parsed.totalBytes, 16_005)
})
