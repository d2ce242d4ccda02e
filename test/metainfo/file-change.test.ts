import test from 'ava'
import { howFileChanged } from '../../appliance/metainfo/file-change.js'

const listed = { size: 1000, mtimeMs: 1_700_000_000_123.456, ino: 42 }

test('the file listed, by size, mtime and inode, has not changed', (t) => {
  t.is(howFileChanged(listed, { ...listed }), undefined)
})

test('another size, another mtime or another inode is a change, and says which', (t) => {
  t.is(howFileChanged(listed, { ...listed, size: 999 }), 'its size is 999 bytes, not 1000')
  t.is(howFileChanged(listed, { ...listed, mtimeMs: listed.mtimeMs + 0.001 }), 'it was modified')
  t.is(howFileChanged(listed, { ...listed, ino: 43 }), 'another file took its place')
})

test('without a listed inode, size and mtime decide', (t) => {
  const { ino, ...withoutInode } = listed
  t.is(howFileChanged(withoutInode, { ...listed, ino: ino + 1 }), undefined)
  t.is(howFileChanged(withoutInode, { ...listed, size: 0 }), 'its size is 0 bytes, not 1000')
})
