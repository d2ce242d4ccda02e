import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import test from 'ava'
import { compareCodePoints, hasStableInodes, listContent, scanContent } from '../../appliance/metainfo/content.js'
import { MetainfoError } from '../../appliance/metainfo/errors.js'
import { sparseFile, writeTree } from '../helpers/content.js'
import { runOk } from '../helpers/run.js'
import { tempDir } from '../helpers/temp-dir.js'

const paths = (content: Awaited<ReturnType<typeof scanContent>>): string[] => Array.from({ length: content.files.length }, (_, index) => content.files.relativePath(index))

test('a single file is its own content, with no path segments', async (t) => {
  const root = tempDir(t)
  writeTree(root, { 'movie.mkv': 1234 })
  const content = await scanContent(join(root, 'movie.mkv'))
  t.false(content.isDirectory)
  t.is(content.name, 'movie.mkv')
  t.is(content.totalBytes, 1234)
  t.deepEqual([...content.files].map((file, index) => [content.files.segments(index), file.absolutePath, file.size]), [[[], join(root, 'movie.mkv'), 1234]])
})

test('files are in byte-wise order of their UTF-8 relative path, not segment by segment', async (t) => {
  const root = join(tempDir(t), 'top')
  // '-' (0x2d) < '.' (0x2e) < '/' (0x2f): whole-path order puts a-c and a.txt before a/b.
  writeTree(root, { 'a/b': 1, 'a.txt': 2, 'a-c': 3, 'B': 4, 'é.txt': 5, 'z': 6, 'a/a/deep': 7, 'ab': 8 })
  const content = await scanContent(root)
  t.true(content.isDirectory)
  t.is(content.name, 'top')
  t.deepEqual(paths(content), ['B', 'a-c', 'a.txt', 'a/a/deep', 'a/b', 'ab', 'z', 'é.txt'])
  t.deepEqual([...content.files].map((file) => file.size), [4, 3, 2, 7, 1, 8, 6, 5])
  t.is(content.totalBytes, 36)
})

test('junk is skipped at any depth and in any case, and reported', async (t) => {
  const root = tempDir(t)
  writeTree(root, {
    'keep.txt': 10,
    '.DS_Store': 5,
    'sub/Thumbs.db': 5,
    'sub/keep2.txt': 3,
    'sub/._keep2.txt': 5,
    'DESKTOP.INI': 5,
    '$RECYCLE.BIN/S-1-5/deleted.doc': 5,
    'System Volume Information/IndexerVolumeGuid': 5,
    '.trashes/x': 5,
    '.Spotlight-V100/Store-V2/y': 5,
    '.fseventsd/fseventsd-uuid': 5
  })
  const content = await scanContent(root)
  t.deepEqual(paths(content), ['keep.txt', 'sub/keep2.txt'])
  t.deepEqual(content.skipped.map((entry) => entry.path.slice(root.length + 1)).sort(), [
    '$RECYCLE.BIN', '.DS_Store', '.Spotlight-V100', '.fseventsd', '.trashes', 'DESKTOP.INI', 'System Volume Information', 'sub/._keep2.txt', 'sub/Thumbs.db'
  ])
})

test('zero-length files are kept and empty folders vanish', async (t) => {
  const root = tempDir(t)
  writeTree(root, { 'empty-first': '', 'data': 100, 'sub/empty': '', 'sub/deeper/also-empty': '' })
  mkdirSync(join(root, 'void/nothing/here'), { recursive: true })
  const content = await scanContent(root)
  t.deepEqual(paths(content), ['data', 'empty-first', 'sub/deeper/also-empty', 'sub/empty'])
  t.is(content.totalBytes, 100)
})

test('a symbolic link inside the root is followed, under the link\'s name', async (t) => {
  const root = tempDir(t)
  writeTree(root, { 'real/file.bin': 50, 'other.bin': 7 })
  symlinkSync('real/file.bin', join(root, 'link-to-file'))
  symlinkSync(join(root, 'real'), join(root, 'link-to-folder'))
  const content = await scanContent(root)
  t.deepEqual(paths(content), ['link-to-file', 'link-to-folder/file.bin', 'other.bin', 'real/file.bin'])
  const linked = content.files.at(paths(content).indexOf('link-to-file'))!
  t.is(linked.absolutePath, join(root, 'real/file.bin'))
  t.is(linked.size, 50)
  t.deepEqual(content.skipped, [])
})

test('symbolic links that leave the root or point nowhere are skipped and reported', async (t) => {
  const base = tempDir(t)
  const root = join(base, 'root')
  writeTree(base, { 'outside.txt': 99, 'outside-dir/secret': 99, 'root/inside.txt': 4, 'root-sibling/x': 1 })
  symlinkSync(join(base, 'outside.txt'), join(root, 'absolute-out'))
  symlinkSync('../outside-dir', join(root, 'relative-out'))
  // A prefix of the root's path is not inside it.
  symlinkSync('../root-sibling/x', join(root, 'prefix-trick'))
  symlinkSync('does-not-exist', join(root, 'dangling'))
  symlinkSync('/etc/passwd', join(root, 'system-file'))
  const content = await scanContent(root)
  t.deepEqual(paths(content), ['inside.txt'])
  t.deepEqual(content.skipped.map((entry) => entry.path).sort(), ['absolute-out', 'dangling', 'prefix-trick', 'relative-out', 'system-file'].map((name) => join(root, name)))
})

test('symbolic link loops end without hanging', async (t) => {
  t.timeout(20_000)
  const root = tempDir(t)
  writeTree(root, { 'a/file': 3 })
  symlinkSync('..', join(root, 'a/up'))
  symlinkSync('.', join(root, 'a/self'))
  symlinkSync(root, join(root, 'a/root'))
  symlinkSync('loop-b', join(root, 'loop-a'))
  symlinkSync('loop-a', join(root, 'loop-b'))
  const content = await scanContent(root)
  t.deepEqual(paths(content), ['a/file'])
  t.is(content.skipped.length, 5)
})

test('a symbolic link to a folder beside it is followed once, not endlessly', async (t) => {
  t.timeout(20_000)
  const root = tempDir(t)
  writeTree(root, { 'a/file': 3 })
  symlinkSync('a', join(root, 'b'))
  symlinkSync('../b', join(root, 'a/back'))
  const content = await scanContent(root)
  t.deepEqual(paths(content), ['a/file', 'b/file'])
})

test('a FIFO is skipped, not read', async (t) => {
  const root = tempDir(t)
  writeTree(root, { 'data': 10 })
  await runOk('mkfifo', [join(root, 'pipe')])
  const content = await scanContent(root)
  t.deepEqual(paths(content), ['data'])
  t.deepEqual(content.skipped.map((entry) => entry.path), [join(root, 'pipe')])
})

test('a name that is not UTF-8 is ET_NAME_ENCODING, naming the folder', async (t) => {
  const root = tempDir(t)
  writeTree(root, { 'fine.txt': 10, 'sub/also-fine': 3 })
  writeFileSync(Buffer.concat([Buffer.from(join(root, 'sub') + '/'), Buffer.from([0x66, 0xff, 0x2e, 0x74])]), 'x')
  const error = await t.throwsAsync(scanContent(root), { instanceOf: MetainfoError })
  t.is(error?.code, 'ET_NAME_ENCODING')
  t.true(error?.path?.startsWith(join(root, 'sub') + '/f'))
  t.true(error?.message.includes(join(root, 'sub')))
})

test('a missing path is ET_PATH_MISSING', async (t) => {
  const missing = join(tempDir(t), 'nope')
  const error = await t.throwsAsync(scanContent(missing), { instanceOf: MetainfoError })
  t.is(error?.code, 'ET_PATH_MISSING')
  t.is(error?.path, missing)
})

const empty: Record<string, (root: string) => void> = {
  'an empty file': (root) => writeTree(root, { 'empty.txt': '' }),
  'an empty folder': () => undefined,
  'a folder of empty folders': (root) => mkdirSync(join(root, 'a/b/c'), { recursive: true }),
  'a folder of empty files': (root) => writeTree(root, { 'a': '', 'b/c': '' }),
  'a folder of junk': (root) => writeTree(root, { '.DS_Store': 100, 'Thumbs.db': 100, 'x/._y': 100 }),
  'a folder of junk and empty files': (root) => writeTree(root, { '.DS_Store': 100, 'empty': '' })
}

for (const [description, make] of Object.entries(empty)) {
  test(`${description} is ET_EMPTY`, async (t) => {
    const base = tempDir(t)
    const root = join(base, 'content')
    mkdirSync(root)
    make(root)
    const target = description === 'an empty file' ? join(root, 'empty.txt') : root
    const error = await t.throwsAsync(scanContent(target), { instanceOf: MetainfoError })
    t.is(error?.code, 'ET_EMPTY')
    t.is(error?.path, target)
  })
}

test('a name with a control character is ET_NAME_ENCODING, escaped in the message', async (t) => {
  const root = tempDir(t)
  writeTree(root, { 'fine.txt': 10, 'sub/line\nbreak.txt': 3 })
  const error = await t.throwsAsync(scanContent(root), { instanceOf: MetainfoError })
  t.is(error?.code, 'ET_NAME_ENCODING')
  t.is(error?.path, join(root, 'sub', 'line\nbreak.txt'))
  t.true(error?.message.includes('line\\nbreak.txt'))
  t.true(error?.message.includes('U+000A'))
  t.false(error?.message.includes('\n'))

  for (const name of ['tab\there', 'escape\u001b[31m', 'delete\u007f', 'bell\u0007']) {
    const other = tempDir(t)
    writeTree(other, { [name]: 5 })
    await t.throwsAsync(scanContent(join(other, name)), { code: 'ET_NAME_ENCODING' }, JSON.stringify(name))
    await t.throwsAsync(scanContent(other), { code: 'ET_NAME_ENCODING' }, JSON.stringify(name))
  }
})

test('temporaries are left out and reported, and their changes count in lastChange', async (t) => {
  const root = tempDir(t)
  writeTree(root, { 'keep.bin': 10, 'copying.bin.part': 7, 'sub/.keep2.bin.Ab12Cd': 3 })
  const content = await scanContent(root)
  t.deepEqual(paths(content), ['keep.bin'])
  t.deepEqual(content.skipped.map((entry) => entry.path), [join(root, 'copying.bin.part'), join(root, 'sub/.keep2.bin.Ab12Cd')])

  const before = content.lastChange
  writeFileSync(join(root, 'copying.bin.part'), 'longer now')
  const after = (await scanContent(root)).lastChange
  t.not(after.fingerprint, before.fingerprint, 'a temporary growing changes the fingerprint')
  t.true(after.atMs >= before.atMs)
  t.deepEqual((await scanContent(root)).lastChange, after, 'and nothing else does')
})

test('empty content is listed by listContent, and refused by scanContent', async (t) => {
  const root = tempDir(t)
  writeTree(root, { 'empty.bin': '', 'folder/empty': '' })
  t.is((await listContent(join(root, 'empty.bin'))).totalBytes, 0)
  t.is((await listContent(join(root, 'folder'))).files.length, 1)
  await t.throwsAsync(scanContent(join(root, 'empty.bin')), { code: 'ET_EMPTY' })
  await t.throwsAsync(scanContent(join(root, 'folder')), { code: 'ET_EMPTY' })
})

test('inode numbers count where the filesystem keeps them (ext4, tmpfs), not where it makes them up (FAT, exFAT, FUSE)', (t) => {
  t.true(hasStableInodes(0xef53), 'ext4')
  t.true(hasStableInodes(0x01021994), 'tmpfs')
  t.false(hasStableInodes(0x4d44), 'FAT')
  t.false(hasStableInodes(0x2011bab0), 'exFAT')
  t.false(hasStableInodes(0x65735546), 'FUSE')
})

test('files on an exFAT drive (exfat-fuse, a real mount) are listed without an inode, files elsewhere with theirs', async (t) => {
  const root = tempDir(t)
  writeTree(root, { 'local/a.bin': 1000 })
  t.true([...(await listContent(join(root, 'local'))).files].every((file) => typeof file.ino === 'number' && file.ino > 0))

  const image = join(root, 'drive.img')
  sparseFile(image, 64 * 1024 * 1024)
  await runOk('mkfs.exfat', ['-L', 'INODES', image])
  const mountPoint = join(root, 'mount')
  mkdirSync(mountPoint)
  await runOk('mount', ['-t', 'exfat-fuse', '-o', 'loop', image, mountPoint])
  t.teardown(async () => { await runOk('umount', [mountPoint]).catch(() => {}) })
  writeTree(mountPoint, { 'album/one.bin': 1000, 'album/two.bin': 2000 })
  const content = await listContent(join(mountPoint, 'album'))
  t.is(content.files.length, 2)
  t.true([...content.files].every((file) => file.ino === undefined))
})

test('characters above U+FFFF sort after U+E000–U+FFFF, as their UTF-8 bytes do (JavaScript\'s own order would put them first)', async (t) => {
  const root = join(tempDir(t), 'top')
  // U+E000 is EE 80 80 in UTF-8, U+1F600 is F0 9F 98 80; in UTF-16 U+1F600 starts with D83D < E000.
  writeTree(root, { '\u{1F600}.txt': 1, '\uE000.txt': 2, 'z/\u{1F600}': 3, 'z/\uFFFD': 4, 'z/\uFB01': 5 })
  const listed = paths(await scanContent(root))
  t.deepEqual(listed, ['z/\uFB01', 'z/\uFFFD', 'z/\u{1F600}', '\uE000.txt', '\u{1F600}.txt'])
  const byBytes = [...listed].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
  t.deepEqual(listed, byBytes)
  t.true(compareCodePoints('\uFFFF', '\u{10000}') < 0)
  t.true(compareCodePoints('a', 'ab') < 0)
  t.is(compareCodePoints('é', 'é'), 0)
})

test('a name holding U+FFFD itself is valid UTF-8 and listed, beside a name that is not UTF-8 refused', async (t) => {
  const root = join(tempDir(t), 'top')
  writeTree(root, { '\uFFFD.txt': 1, 'a.txt': 2 })
  t.deepEqual(paths(await scanContent(root)), ['a.txt', '\uFFFD.txt'])
  writeFileSync(Buffer.concat([Buffer.from(root + '/'), Buffer.from([0x66, 0xff])]), 'x')
  await t.throwsAsync(scanContent(root), { code: 'ET_NAME_ENCODING' })
})

test('a folder of many files is listed in byte order of the whole paths, with their sizes, blocking or not', async (t) => {
  const root = join(tempDir(t), 'top')
  const files: Record<string, number> = {}
  for (let index = 0; index < 600; index++) files[`d${index % 13}${index % 2 === 0 ? '-x' : ''}/f${(index * 7919) % 1000}.bin`] = index % 50
  writeTree(root, files)
  const expected = Object.keys(files).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
  for (const blocking of [false, true]) {
    const content = await listContent(root, { blocking })
    t.deepEqual(paths(content), expected)
    t.deepEqual([...content.files].map((file) => file.size), expected.map((path) => files[path]))
    t.deepEqual([...content.files].map((file) => file.absolutePath), expected.map((path) => join(root, path)))
  }
  const [first, second] = [await listContent(root), await listContent(root, { blocking: true })]
  t.deepEqual(first.lastChange, second.lastChange, 'the same walk, blocking or not')
})

test('an item with more files than maxFiles is ET_TOO_MANY_FILES', async (t) => {
  const root = join(tempDir(t), 'top')
  writeTree(root, { a: 1, b: 1, 'c/d': 1 })
  t.is((await listContent(root, { maxFiles: 3 })).files.length, 3)
  await t.throwsAsync(listContent(root, { maxFiles: 2 }), { code: 'ET_TOO_MANY_FILES' })
})
