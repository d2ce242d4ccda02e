import test, { type ExecutionContext } from 'ava'
import bencode from 'bencode'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { DownloadError } from '../../appliance/download/download-errors.js'
import type { InfoHash } from '../../appliance/metainfo/metainfo.js'
import { tempDir } from '../helpers/temp-dir.js'
import { startHostileSeed, watchDownload } from './peers.js'

const PIECE = 16 * 1024

interface FileSpec {
  readonly path: readonly string[]
  readonly length: number
  readonly attr?: string
}

/** A torrent's info dictionary as a hostile author writes it, bencoded by hand (our own builder refuses such paths). */
function hostileInfo (name: string, files: readonly FileSpec[]): { infoBytes: Buffer, infoHash: InfoHash, torrent: Buffer } {
  const total = files.reduce((sum, file) => sum + file.length, 0)
  const pieces = Buffer.alloc(Math.ceil(total / PIECE) * 20, 1)
  const info = {
    files: files.map((file) => ({ length: file.length, path: file.path.map((segment) => Buffer.from(segment)), ...(file.attr !== undefined && { attr: file.attr }) })),
    name,
    'piece length': PIECE,
    pieces
  }
  const infoBytes = Buffer.from(bencode.encode(info))
  return { infoBytes, infoHash: createHash('sha1').update(infoBytes).digest('hex') as InfoHash, torrent: Buffer.from(bencode.encode({ info })) }
}

/** Every entry below `folder`, `/`-separated, folders with a trailing `/`. */
function listing (folder: string): string[] {
  return readdirSync(folder, { recursive: true, withFileTypes: true })
    .map((entry) => `${join(entry.parentPath, entry.name).slice(folder.length + 1)}${entry.isDirectory() ? '/' : ''}`).sort()
}

/** A test root with the download folder, a folder outside it holding a file a write through a link would change, and nothing else. */
function layout (t: ExecutionContext): { root: string, folder: string, outside: string } {
  const root = tempDir(t)
  const folder = join(root, 'mirror')
  const outside = join(root, 'outside')
  mkdirSync(folder)
  mkdirSync(outside)
  writeFileSync(join(outside, 'precious.txt'), 'untouched')
  return { root, folder, outside }
}

async function refusal (t: ExecutionContext, folder: string, root: string, torrent: { infoHash: InfoHash, torrent: Buffer }): Promise<DownloadError> {
  const watched = await watchDownload(t, { infoHash: torrent.infoHash, metainfo: torrent.torrent, peers: [], folder, resumePath: join(root, 'resume') })
  const outcome = await watched.outcome
  if (!(outcome instanceof DownloadError)) return t.fail('the torrent was downloaded') as never
  return outcome
}

const parserRefusals: Array<[string, readonly FileSpec[], string]> = [
  ['a ".." segment', [{ path: ['..', '..', 'outside', 'precious.txt'], length: 9 }], 'name'],
  ['an absolute path (an empty first segment)', [{ path: ['', 'tmp', 'x'], length: 9 }], 'name'],
  ['a segment with "/"', [{ path: ['/etc/passwd'], length: 9 }], 'name'],
  ['a name of ".."', [{ path: ['x'], length: 9 }], '..'],
  ['a NUL in a segment', [{ path: ['a\0b'], length: 9 }], 'name']
]

for (const [what, files, name] of parserRefusals) {
  test(`a torrent with ${what} is refused (ET_BAD_METADATA) and nothing is written`, async (t) => {
    const { root, folder } = layout(t)
    const error = await refusal(t, folder, root, hostileInfo(name, files))
    t.is(error.code, 'ET_BAD_METADATA')
    t.regex(error.message, /safe|not valid/)
    t.deepEqual(listing(root), ['mirror/', 'outside/', 'outside/precious.txt'])
    t.is(readFileSync(join(root, 'outside', 'precious.txt'), 'utf8'), 'untouched')
  })
}

const layoutRefusals: Array<[string, readonly FileSpec[]]> = [
  ['a BEP 47 symlink (attr "l")', [{ path: ['link'], length: 0, attr: 'l' }, { path: ['file'], length: 9 }]],
  ['two names equal up to case', [{ path: ['Photo.jpg'], length: 9 }, { path: ['photo.JPG'], length: 9 }]],
  ['two names equal up to Unicode normalisation', [{ path: ['caf\u00e9'], length: 9 }, { path: ['cafe\u0301'], length: 9 }]],
  ['a file that is also another file\'s folder', [{ path: ['a'], length: 9 }, { path: ['a', 'b'], length: 9 }]]
]

for (const [what, files] of layoutRefusals) {
  test(`a torrent with ${what} is refused (ET_UNSAFE_PATH) and nothing is written`, async (t) => {
    const { root, folder } = layout(t)
    const error = await refusal(t, folder, root, hostileInfo('name', files))
    t.is(error.code, 'ET_UNSAFE_PATH')
    t.deepEqual(listing(root), ['mirror/', 'outside/', 'outside/precious.txt'])
  })
}

test('a symlink planted in the destination (the torrent\'s folder, or a file in it) is never followed: ET_UNSAFE_PATH, the target untouched', async (t) => {
  const { root, folder, outside } = layout(t)
  symlinkSync(outside, join(folder, 'name'))
  const error = await refusal(t, folder, root, hostileInfo('name', [{ path: ['precious.txt'], length: 9 }]))
  t.is(error.code, 'ET_UNSAFE_PATH')
  t.regex(error.message, /symlink/)

  const second = join(root, 'second')
  mkdirSync(join(second, 'name'), { recursive: true })
  symlinkSync(join(outside, 'precious.txt'), join(second, 'name', 'precious.txt'))
  const again = await refusal(t, second, root, hostileInfo('name', [{ path: ['precious.txt'], length: 9 }]))
  t.is(again.code, 'ET_UNSAFE_PATH')
  t.deepEqual(listing(outside), ['precious.txt'])
  t.is(readFileSync(join(outside, 'precious.txt'), 'utf8'), 'untouched')
})

test('pad files (BEP 47 attr "p") are never written; the other files are', async (t) => {
  const { root, folder } = layout(t)
  const torrent = hostileInfo('name', [{ path: ['a.bin'], length: 100 }, { path: ['.pad', '16284'], length: PIECE - 100, attr: 'p' }, { path: ['b.bin'], length: 5 }])
  const watched = await watchDownload(t, { infoHash: torrent.infoHash, metainfo: torrent.torrent, peers: [], folder, resumePath: join(root, 'resume') })
  await watched.download.close()
  t.deepEqual(listing(folder), ['name/', 'name/a.bin', 'name/b.bin'])
  t.false(existsSync(join(folder, 'name', '.pad')))
})

test('a malicious info dictionary fetched by BEP 9 (hashing to the infohash asked for) is refused like a .torrent: nothing written', async (t) => {
  const { root, folder } = layout(t)
  const torrent = hostileInfo('name', [{ path: ['ok'], length: 9 }, { path: ['OK'], length: 9 }])
  const hostile = await startHostileSeed(t, { host: '127.0.0.2', infoHash: torrent.infoHash, pieceCount: 2, infoBytes: torrent.infoBytes, corrupt: false })
  const watched = await watchDownload(t, { infoHash: torrent.infoHash, peers: [{ host: hostile.host, port: hostile.port }], folder, resumePath: join(root, 'resume') })
  const outcome = await watched.outcome
  t.true(outcome instanceof DownloadError && outcome.code === 'ET_UNSAFE_PATH', String(outcome instanceof Error ? outcome.message : 'downloaded'))
  t.deepEqual(listing(root), ['mirror/', 'outside/', 'outside/precious.txt'])
})

test('metainfo of another torrent is refused (ET_BAD_METADATA)', async (t) => {
  const { root, folder } = layout(t)
  const one = hostileInfo('one', [{ path: ['a'], length: 9 }])
  const other = hostileInfo('other', [{ path: ['a'], length: 9 }])
  const error = await refusal(t, folder, root, { infoHash: one.infoHash, torrent: other.torrent })
  t.is(error.code, 'ET_BAD_METADATA')
  t.deepEqual(listing(root), ['mirror/', 'outside/', 'outside/precious.txt'])
})
