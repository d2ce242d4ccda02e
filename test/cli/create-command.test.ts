import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import test, { type ExecutionContext } from 'ava'
import { parseTorrent } from '../../appliance/metainfo/metainfo.js'
import { VERSION } from '../../appliance/version.js'
import { parseCreateOutput, runCli } from '../helpers/cli.js'
import { writeTree } from '../helpers/content.js'
import { tempDir } from '../helpers/temp-dir.js'

interface Fixture {
  readonly base: string
  readonly content: string
}

function fixture (t: ExecutionContext): Fixture {
  const base = tempDir(t)
  const content = join(base, 'photos')
  writeTree(content, { 'a.jpg': 70_000, 'b/c.jpg': 33_333, 'b/empty.txt': '' })
  return { base, content }
}

async function createOk (t: ExecutionContext, args: readonly string[], cwd: string): Promise<{ stdout: string, stderr: string }> {
  const result = await runCli(['create', ...args], { cwd })
  t.is(result.exitCode, 0, result.stderr)
  return result
}

test('prints the .torrent path, infohash and magnet link, and writes nothing else', async (t) => {
  const { base, content } = fixture(t)
  const before = Math.floor(Date.now() / 1000)
  const { stdout, stderr } = await createOk(t, ['photos'], base)
  const printed = parseCreateOutput(stdout)
  t.is(stderr, '')
  t.is(printed.torrent, join(base, 'photos.torrent'))
  t.deepEqual(readdirSync(base).sort(), ['photos', 'photos.torrent'])
  const metainfo = parseTorrent(readFileSync(printed.torrent))
  t.is(printed.infoHash, metainfo.infoHash)
  t.is(metainfo.name, 'photos')
  t.deepEqual([...metainfo.files].map((file) => [file.path.join('/'), file.length]), [['a.jpg', 70_000], ['b/c.jpg', 33_333], ['b/empty.txt', 0]])
  t.is(metainfo.createdBy, `evertorrent/${VERSION}`)
  t.true(metainfo.creationDate! >= before && metainfo.creationDate! <= Math.ceil(Date.now() / 1000))
  t.deepEqual(metainfo.announceList, [])
  t.deepEqual(metainfo.urlList, [])
  t.false(metainfo.private)
  const magnet = new URL(printed.magnet).searchParams
  t.is(magnet.get('xt'), `urn:btih:${metainfo.infoHash}`)
  t.is(magnet.get('dn'), 'photos')
  t.is(magnet.get('xl'), '103333')
  t.deepEqual(readdirSync(content).sort(), ['a.jpg', 'b'], 'the content is left as it was')
})

test('every option lands in the .torrent and the magnet link', async (t) => {
  const { base, content } = fixture(t)
  mkdirSync(join(base, 'out'))
  const { stdout } = await createOk(t, [
    content,
    '-o', 'out/x.torrent',
    '-a', 'http://t1.example/announce, http://t1b.example/announce',
    '--announce', 'udp://t2.example:6969',
    '-w', 'http://w1.example/files/',
    '--web-seed', 'http://w2.example/',
    '-l', '16K',
    '-p',
    '-c', 'a comment',
    '-s', 'SRC',
    '-n', 'Holiday 2024',
    '-t', '2',
    '-q'
  ], base)
  const printed = parseCreateOutput(stdout)
  t.is(printed.torrent, join(base, 'out', 'x.torrent'))
  const metainfo = parseTorrent(readFileSync(printed.torrent))
  t.like(metainfo, {
    infoHash: printed.infoHash,
    name: 'Holiday 2024',
    pieceLength: 16384,
    announceList: [['http://t1.example/announce', 'http://t1b.example/announce'], ['udp://t2.example:6969']],
    urlList: ['http://w1.example/files/', 'http://w2.example/'],
    private: true,
    comment: 'a comment',
    source: 'SRC'
  })
  const magnet = new URL(printed.magnet).searchParams
  t.is(magnet.get('dn'), 'Holiday 2024')
  t.deepEqual(magnet.getAll('tr'), ['http://t1.example/announce', 'http://t1b.example/announce', 'udp://t2.example:6969'])
  t.deepEqual(magnet.getAll('ws'), ['http://w1.example/files/', 'http://w2.example/'])
})

test('--name also names the default output file', async (t) => {
  const { base } = fixture(t)
  const printed = parseCreateOutput((await createOk(t, ['photos', '-n', 'renamed'], base)).stdout)
  t.is(printed.torrent, join(base, 'renamed.torrent'))
  t.is(parseTorrent(readFileSync(printed.torrent)).name, 'renamed')
})

test('the thread count does not change the infohash; 16K is 16384 bytes', async (t) => {
  const { base } = fixture(t)
  const one = parseCreateOutput((await createOk(t, ['photos', '-t', '1', '-o', 'one.torrent', '-l', '16K'], base)).stdout)
  const three = parseCreateOutput((await createOk(t, ['photos', '--threads', '3', '-o', 'three.torrent', '--piece-length', '16384'], base)).stdout)
  t.is(one.infoHash, three.infoHash)
  t.is(parseTorrent(readFileSync(one.torrent)).pieceLength, 16384)
})

test('--force replaces an existing output file', async (t) => {
  const { base } = fixture(t)
  writeFileSync(join(base, 'photos.torrent'), 'old')
  const printed = parseCreateOutput((await createOk(t, ['photos', '-f'], base)).stdout)
  t.is(String(parseTorrent(readFileSync(printed.torrent)).infoHash), printed.infoHash)
  t.deepEqual(readdirSync(base).sort(), ['photos', 'photos.torrent'])
})

test('junk and links leaving the folder are reported on stderr and left out', async (t) => {
  const { base, content } = fixture(t)
  writeTree(content, { '.DS_Store': 10, 'b/Thumbs.db': 10 })
  writeTree(base, { 'outside.txt': 10 })
  symlinkSync('../../outside.txt', join(content, 'b', 'escape'))
  const result = await createOk(t, ['photos'], base)
  const lines = result.stderr.trimEnd().split('\n').sort()
  t.is(lines.length, 3)
  t.true(lines[0]!.startsWith(`evertorrent: skipped ${join(content, '.DS_Store')}: `))
  t.true(lines[1]!.startsWith(`evertorrent: skipped ${join(content, 'b', 'Thumbs.db')}: `))
  t.true(lines[2]!.startsWith(`evertorrent: skipped ${join(content, 'b', 'escape')}: `))
  const metainfo = parseTorrent(readFileSync(parseCreateOutput(result.stdout).torrent))
  t.deepEqual([...metainfo.files].map((file) => file.path.join('/')), ['a.jpg', 'b/c.jpg', 'b/empty.txt'])
})

test('create --help prints the options and exits 0', async (t) => {
  const base = tempDir(t)
  const result = await runCli(['create', '--help'], { cwd: base })
  t.is(result.exitCode, 0)
  t.is(result.stderr, '')
  t.regex(result.stdout, /^Usage: evertorrent create <file-or-folder>/)
  for (const option of ['--output', '--announce', '--web-seed', '--piece-length', '--private', '--comment', '--source', '--name', '--threads', '--force', '--quiet']) {
    t.true(result.stdout.includes(option), option)
  }
  t.deepEqual(readdirSync(base), [])
})

test('--format v1 writes the same .torrent as the default, byte for byte (but its creation date)', async (t) => {
  const { base, content } = fixture(t)
  const withoutDate = (path: string): Buffer => Buffer.from(readFileSync(path).toString('latin1').replace(/13:creation datei\d+e/, ''), 'latin1')
  await createOk(t, [content, '-o', 'default.torrent', '-a', 'http://127.0.0.2/announce', '-l', '16K'], base)
  await createOk(t, [content, '-o', 'v1.torrent', '-a', 'http://127.0.0.2/announce', '-l', '16K', '--format', 'v1'], base)
  t.true(withoutDate(join(base, 'default.torrent')).equals(withoutDate(join(base, 'v1.torrent'))))
  const torrent = parseTorrent(readFileSync(join(base, 'default.torrent')))
  t.is(torrent.format, 'v1')
  t.is(torrent.infoHashV2, undefined)
  t.false(readFileSync(join(base, 'default.torrent')).includes('meta version'))
})

test('--format hybrid prints the v2 infohash too', async (t) => {
  const { base, content } = fixture(t)
  const { stdout } = await createOk(t, [content, '-o', 'h.torrent', '-F', 'hybrid'], base)
  const printed = parseCreateOutput(stdout)
  const torrent = parseTorrent(readFileSync(join(base, 'h.torrent')))
  t.is(torrent.format, 'hybrid')
  t.is(printed.infoHash, torrent.infoHash)
  t.is(printed.infoHashV2, torrent.infoHashV2)
})
