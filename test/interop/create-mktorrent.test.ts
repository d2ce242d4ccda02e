import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import test, { type ExecutionContext } from 'ava'
import bencode from 'bencode'
import { createTorrent } from '../../appliance/metainfo/create-torrent.js'
import { encodeTorrent } from '../../appliance/metainfo/metainfo.js'
import { parseCreateOutput, runCli } from '../helpers/cli.js'
import { writeTree, type FileContent } from '../helpers/content.js'
import { mktorrent } from '../helpers/mktorrent.js'
import { tempDir } from '../helpers/temp-dir.js'
import { transmissionShow } from '../helpers/transmission-show.js'

/*
 * The same content and piece length must give the same infohash as mktorrent 1.1, the reference
 * .torrent maker. mktorrent does no junk filtering, so the folders here hold none. On a mismatch the
 * decoded info dictionaries are compared first, so the failure shows the exact difference.
 */

const KiB = 1024
const MiB = 1024 * KiB

/** The info dictionary, readable: byte strings as text (pieces as hex), for a useful diff. */
function readableInfo (torrent: Uint8Array): unknown {
  const show = (value: unknown, key?: string): unknown => {
    if (value instanceof Uint8Array) return key === 'pieces' ? Buffer.from(value).toString('hex') : Buffer.from(value).toString('utf8')
    if (Array.isArray(value)) return value.map((item) => show(item))
    if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, show(v, k)]))
    return value
  }
  return show((bencode.decode(torrent) as { info: unknown }).info)
}

async function compareWithMktorrent (t: ExecutionContext, target: string, exponent: number, ours: Uint8Array, oursInfoHash: string, extra: { private?: boolean, source?: string } = {}): Promise<void> {
  const reference = join(tempDir(t), 'mktorrent.torrent')
  await mktorrent(target, reference, { pieceLengthExponent: exponent, ...extra })
  t.deepEqual(readableInfo(ours), readableInfo(readFileSync(reference)))
  t.is(oursInfoHash, (await transmissionShow(reference)).hash)
}

async function libraryTorrent (path: string, pieceLength: number, extra: { private?: boolean, source?: string } = {}): Promise<{ bytes: Buffer, infoHash: string }> {
  const { metainfo } = await createTorrent(path, { pieceLength, threads: 1, ...extra })
  return { bytes: encodeTorrent(metainfo), infoHash: metainfo.infoHash }
}

const sizes = [1, 32 * KiB - 1, 32 * KiB, 32 * KiB + 1, 1_000_003, 3 * MiB, 5_555_555]
const exponents = [15, 18, 20, 22]

for (const size of sizes) {
  test(`one file of ${size} bytes: same infohash as mktorrent for 2^${exponents.join(', 2^')} pieces`, async (t) => {
    const path = join(tempDir(t), `file-${size}.bin`)
    writeTree(join(path, '..'), { [`file-${size}.bin`]: size })
    for (const exponent of exponents) {
      const ours = await libraryTorrent(path, 2 ** exponent)
      await compareWithMktorrent(t, path, exponent, ours.bytes, ours.infoHash)
    }
  })
}

test('the CLI gives mktorrent\'s infohash for one file, with the private flag and a source', async (t) => {
  const base = tempDir(t)
  writeTree(base, { 'movie.mkv': 2_345_678 })
  const result = await runCli(['create', join(base, 'movie.mkv'), '-o', join(base, 'ours.torrent'), '-l', '64K', '-p', '-s', 'EVER'])
  t.is(result.exitCode, 0, result.stderr)
  const printed = parseCreateOutput(result.stdout)
  await compareWithMktorrent(t, join(base, 'movie.mkv'), 16, readFileSync(printed.torrent), printed.infoHash, { private: true, source: 'EVER' })
})

const folders: Record<string, Readonly<Record<string, FileContent>>> = {
  'nested subfolders': { 'top.bin': 100_000, 'a/b/c/deep.bin': 70_001, 'a/b/side.bin': 5, 'a/x.txt': 3333, 'z/y/last.bin': 99_999 },
  'empty files': { 'empty-1': '', 'data.bin': 40_000, 'sub/empty-2': '', 'sub/data.bin': 1, 'sub/deeper/empty-3': '', 'zz-empty': '' },
  // '-' (0x2d) < '.' (0x2e) < '/' (0x2f) < '0' < 'A' < 'a' < 'é' (0xc3 0xa9): whole-path order differs from segment order.
  'names whose byte order differs from segment order': {
    'a/b': 1000, 'a.txt': 2000, 'a-c': 3000, 'a/a/deep': 4000, 'a0': 5000, 'A': 6000, 'ab/c': 7000, 'é': 8000, 'e/f': 9000, 'a b/c': 10_000
  },
  'non-ASCII names': { 'ünïcødé/日本語.txt': 40_000, '🎉 party/émoji 😀.bin': 20_000, 'Ωmega.txt': 5 }
}

for (const [description, files] of Object.entries(folders)) {
  test(`a folder with ${description}: same infohash as mktorrent`, async (t) => {
    const root = join(tempDir(t), 'content')
    writeTree(root, files)
    for (const exponent of [15, 20]) {
      const ours = await libraryTorrent(root, 2 ** exponent)
      await compareWithMktorrent(t, root, exponent, ours.bytes, ours.infoHash)
    }
  })
}

test('the CLI gives mktorrent\'s infohash for a folder', async (t) => {
  const base = tempDir(t)
  const root = join(base, 'content')
  writeTree(root, folders['names whose byte order differs from segment order']!)
  const result = await runCli(['create', root, '-o', join(base, 'ours.torrent'), '-l', '32K'])
  t.is(result.exitCode, 0, result.stderr)
  const printed = parseCreateOutput(result.stdout)
  await compareWithMktorrent(t, root, 15, readFileSync(printed.torrent), printed.infoHash)
})
