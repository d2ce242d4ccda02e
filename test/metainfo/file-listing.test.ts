import test from 'ava'
import { FileListing, FileListingBuilder } from '../../appliance/metainfo/file-listing.js'
import { MetainfoError } from '../../appliance/metainfo/errors.js'

test('a listing packs paths, sizes, mtimes and inodes, and reads back each file as it was added', (t) => {
  const builder = new FileListingBuilder('/data/album/', true, 10)
  builder.add('a.flac', 10, 1000.5, 7)
  builder.add('日本語/b 😀.txt', 0, 2000, 8)
  builder.add('link', 3, 3000, 9, '/data/album/real/file')
  const listing = builder.finish()
  t.is(listing.length, 3)
  t.is(listing.totalBytes, 13)
  t.deepEqual([...listing], [
    { absolutePath: '/data/album/a.flac', size: 10, mtimeMs: 1000.5, ino: 7 },
    { absolutePath: '/data/album/日本語/b 😀.txt', size: 0, mtimeMs: 2000, ino: 8 },
    { absolutePath: '/data/album/real/file', size: 3, mtimeMs: 3000, ino: 9 }
  ])
  t.deepEqual(listing.segments(1), ['日本語', 'b 😀.txt'])
  t.is(listing.relativePath(2), 'link')
  t.deepEqual(listing.relativePathBytes(1), Buffer.from('日本語/b 😀.txt'))
  t.is(listing.at(3), undefined)
  t.is(listing.at(-1), undefined)
})

test('without stable inodes a listing has none, and a single file has no segments', (t) => {
  const builder = new FileListingBuilder('/mnt/usb/movie.mkv', false, 1)
  builder.add('', 1234, 5, 99)
  const listing = builder.finish()
  t.deepEqual(listing.at(0), { absolutePath: '/mnt/usb/movie.mkv', size: 1234, mtimeMs: 5 })
  t.is(listing.ino(0), undefined)
  t.deepEqual(listing.segments(0), [])
})

test('a listing grows past its first capacity and lives in shared memory (hashing threads read it without a copy)', (t) => {
  const builder = new FileListingBuilder('/r/', true, 100_000)
  // Past the builder's first steps of growth: 4,096 files and 256 KiB of paths.
  for (let index = 0; index < 20_000; index++) builder.add(`dir-${index % 7}/file-${String(index).padStart(5, '0')}.bin`, index, index * 2, index + 1)
  const listing = builder.finish()
  t.is(listing.length, 20_000)
  t.is(listing.relativePath(4321), 'dir-2/file-04321.bin')
  t.is(listing.relativePath(19_999), 'dir-0/file-19999.bin')
  t.is(listing.size(19_999), 19_999)
  t.is(listing.mtimeMs(17), 34)
  t.is(listing.ino(0), 1)
  for (const array of [listing.data.paths, listing.data.pathEnds, listing.data.sizes, listing.data.mtimes, listing.data.inodes!]) {
    t.true(array.buffer instanceof SharedArrayBuffer)
  }
  t.is(listing.data.paths.byteLength, listing.data.pathEnds[19_999], 'trimmed to the bytes used')
})

test('more files than the bound is ET_TOO_MANY_FILES, naming the folder', (t) => {
  const builder = new FileListingBuilder('/data/huge/', true, 2)
  builder.add('a', 1, 1, 1)
  builder.add('b', 1, 1, 1)
  const error = t.throws(() => builder.add('c', 1, 1, 1), { instanceOf: MetainfoError })
  t.is(error?.code, 'ET_TOO_MANY_FILES')
  t.regex(error?.message ?? '', /\/data\/huge\/ holds more than 2 files/)
})

test('a list of absolute paths makes a listing of those files, for hashing them', (t) => {
  const listing = FileListing.ofFiles([{ path: '/x/a', size: 1, mtimeMs: 2 }, { path: '/y/b', size: 3, mtimeMs: 4, ino: 5 }])
  t.deepEqual([...listing].map((file) => file.absolutePath), ['/x/a', '/y/b'])
  t.is(listing.totalBytes, 4)
  t.is(listing.ino(1), 5)
})
