import test from 'ava'
import { fileRangesFor, type FileLayout } from '../../appliance/seeder/file-ranges.js'

function files (...lengths: number[]): FileLayout {
  const offsets: number[] = []
  let offset = 0
  for (const length of lengths) {
    offsets.push(offset)
    offset += length
  }
  return { length: lengths.length, offsetOf: (index) => offsets[index]!, lengthOf: (index) => lengths[index]! }
}

test('a span inside one file maps to that file alone', (t) => {
  t.deepEqual(fileRangesFor(files(100, 200, 300), 120, 50), [{ fileIndex: 1, fileOffset: 20, spanOffset: 0, length: 50 }])
})

test('a span across file boundaries is split at each boundary, in order', (t) => {
  t.deepEqual(fileRangesFor(files(100, 200, 300), 90, 320), [
    { fileIndex: 0, fileOffset: 90, spanOffset: 0, length: 10 },
    { fileIndex: 1, fileOffset: 0, spanOffset: 10, length: 200 },
    { fileIndex: 2, fileOffset: 0, spanOffset: 210, length: 110 }
  ])
})

test('empty files take no bytes and never appear', (t) => {
  t.deepEqual(fileRangesFor(files(10, 0, 0, 10, 0), 5, 10), [
    { fileIndex: 0, fileOffset: 5, spanOffset: 0, length: 5 },
    { fileIndex: 3, fileOffset: 0, spanOffset: 5, length: 5 }
  ])
  t.deepEqual(fileRangesFor(files(10, 0, 10), 10, 10), [{ fileIndex: 2, fileOffset: 0, spanOffset: 0, length: 10 }])
})

test('spans that start or end exactly on a boundary', (t) => {
  const layout = files(16, 16, 16)
  t.deepEqual(fileRangesFor(layout, 16, 16), [{ fileIndex: 1, fileOffset: 0, spanOffset: 0, length: 16 }])
  t.deepEqual(fileRangesFor(layout, 0, 48).map((range) => range.length), [16, 16, 16])
  t.deepEqual(fileRangesFor(layout, 47, 1), [{ fileIndex: 2, fileOffset: 15, spanOffset: 0, length: 1 }])
})

test('the ranges of every span tile it exactly (many small files, every offset)', (t) => {
  const layout = files(3, 0, 7, 1, 1, 0, 13, 2, 5)
  const total = 32
  for (let offset = 0; offset < total; offset++) {
    for (let length = 1; offset + length <= total; length++) {
      const ranges = fileRangesFor(layout, offset, length)
      let expected = 0
      for (const range of ranges) {
        t.is(range.spanOffset, expected)
        t.true(range.length > 0)
        t.is(layout.offsetOf(range.fileIndex) + range.fileOffset, offset + range.spanOffset)
        t.true(range.fileOffset + range.length <= layout.lengthOf(range.fileIndex))
        expected += range.length
      }
      t.is(expected, length)
    }
  }
})
