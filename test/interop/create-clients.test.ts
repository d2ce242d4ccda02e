import { dirname, join } from 'node:path'
import { readFileSync, writeFileSync } from 'node:fs'
import test, { type ExecutionContext } from 'ava'
import { parseTorrent } from '../../appliance/metainfo/metainfo.js'
import { pieceLengthFor } from '../../appliance/metainfo/piece-length.js'
import { parseCreateOutput, runCli } from '../helpers/cli.js'
import { sparseFile, writeTree, type FileContent } from '../helpers/content.js'
import { inspectWithLibtorrent } from '../helpers/libtorrent.js'
import { tempDir } from '../helpers/temp-dir.js'
import { displaysAs, transmissionShow } from '../helpers/transmission-show.js'

/*
 * Our .torrent files as two independent clients read them: libtorrent (which also checks every piece
 * against the data) and transmission-show. Both must agree with what `evertorrent create` printed
 * and with the content the test made.
 */

interface Case {
  /** File or folder name of the content (also the torrent name). */
  readonly name: string
  /** A single file when undefined; else the folder's files. */
  readonly files?: Readonly<Record<string, FileContent>>
  readonly size?: number
  readonly pieceLength?: number
}

const KiB = 1024
const MiB = 1024 * KiB

function manySmallFiles (count: number): Record<string, number> {
  const files: Record<string, number> = {}
  for (let index = 0; index < count; index++) files[`dir-${String(index % 20).padStart(2, '0')}/file-${index}.txt`] = 1 + (index * 7919) % 600
  return files
}

const cases: Record<string, Case> = {
  'one file': { name: 'single.bin', size: 3 * MiB, pieceLength: 256 * KiB },
  'one file whose size is not a multiple of the piece length': { name: 'odd.bin', size: 1_234_567, pieceLength: 32 * KiB },
  'one file with the automatic piece length': { name: 'auto.bin', size: 40 * MiB + 3 },
  'a folder with nested subfolders': {
    name: 'nested',
    files: { 'top.txt': 1000, 'a/one.bin': 70_000, 'a/b/two.bin': 33_333, 'a/b/c/d/three.bin': 200_001, 'z/last.txt': 12 },
    pieceLength: 16 * KiB
  },
  'a folder of 2,000 small files': { name: 'many', files: manySmallFiles(2000) },
  'zero-length files among others': {
    name: 'with-empties',
    files: { '0-empty-first': '', 'data-1.bin': 50_000, 'middle/empty': '', 'middle/data-2.bin': 16 * KiB, 'zz-empty-last': '' },
    pieceLength: 16 * KiB
  },
  'non-ASCII names': {
    name: 'données 🎉',
    files: { 'ünïcødé/日本語.txt': 40_000, '🎉 party/émoji 😀.bin': 20_000, 'Ωmega.txt': 5, 'ünïcødé/ascii.txt': 7 },
    pieceLength: 16 * KiB
  }
}

/** Torrent order: byte order of the UTF-8 relative path. */
function expectedFiles (c: Case, total: number): Array<{ path: string, size: number }> {
  if (c.files === undefined) return [{ path: c.name, size: total }]
  return Object.entries(c.files)
    .map(([path, content]) => ({ path, size: typeof content === 'number' ? content : Buffer.byteLength(content) }))
    .sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)))
    .map(({ path, size }) => ({ path: `${c.name}/${path}`, size }))
}

async function makeContent (t: ExecutionContext, c: Case): Promise<string> {
  const path = join(tempDir(t), c.name)
  if (c.files !== undefined) writeTree(path, c.files)
  else if (c.size! > 8 * MiB) sparseFile(path, c.size!)
  else writeTree(dirname(path), { [c.name]: c.size! })
  return path
}

for (const [description, c] of Object.entries(cases)) {
  test(`libtorrent and transmission-show read and verify: ${description}`, async (t) => {
    const content = await makeContent(t, c)
    const out = tempDir(t)
    const args = ['create', content, '-o', join(out, 'case.torrent'), ...(c.pieceLength === undefined ? [] : ['-l', String(c.pieceLength)])]
    const result = await runCli(args)
    t.is(result.exitCode, 0, result.stderr)
    const printed = parseCreateOutput(result.stdout)
    const files = expectedFiles(c, c.size ?? 0)
    const total = files.reduce((sum, file) => sum + file.size, 0)
    const pieceLength = c.pieceLength ?? pieceLengthFor(total)
    const pieceCount = Math.ceil(total / pieceLength)

    const lt = await inspectWithLibtorrent(printed.torrent, dirname(content))
    t.is(lt.info_hash, printed.infoHash)
    t.is(lt.name, c.name)
    t.is(lt.total_size, total)
    t.is(lt.piece_length, pieceLength)
    t.is(lt.num_pieces, pieceCount)
    t.deepEqual(lt.files, files.map((file) => ({ ...file, pad: false })))
    t.deepEqual(lt.check, { checked: true, state: 'seeding', progress: 1, pieces_verified: pieceCount, errors: [] })

    const tr = await transmissionShow(printed.torrent)
    t.is(tr.hash, printed.infoHash)
    t.is(tr.name, c.name)
    t.is(tr.pieceCount, pieceCount)
    t.true(displaysAs(tr.pieceSize, pieceLength), `piece size shown as ${tr.pieceSize.text}, expected ${pieceLength} bytes`)
    t.true(displaysAs(tr.totalSize, total), `total size shown as ${tr.totalSize.text}, expected ${total} bytes`)
    t.deepEqual(tr.files.map((file) => file.path), files.map((file) => file.path))
    for (const [index, file] of tr.files.entries()) {
      t.true(displaysAs(file.size, files[index]!.size), `${file.path} shown as ${file.size.text}, expected ${files[index]!.size} bytes`)
    }
    t.false(tr.private)

    const ours = parseTorrent(readFileSync(printed.torrent))
    t.is(String(ours.infoHash), printed.infoHash)
    t.deepEqual([...ours.files].map((file) => ({ path: c.files === undefined ? file.path.join('/') : `${c.name}/${file.path.join('/')}`, size: file.length })), files)
  })
}

for (const kind of ['folder', 'single file'] as const) {
  test(`announce-list, url-list and the private flag survive libtorrent, transmission-show and parseTorrent (${kind})`, async (t) => {
    const c: Case = kind === 'folder' ? { name: 'shared', files: { 'a.bin': 40_000, 'b/c.bin': 9_000 } } : { name: 'shared.bin', size: 49_000 }
    const content = await makeContent(t, c)
    const tiers = [['http://tracker-1.example/announce', 'http://tracker-1b.example:8080/announce'], ['udp://tracker-2.example:6969/announce']]
    const seeds = ['http://seed-1.example/files/', 'https://seed-2.example/mirror']
    const result = await runCli([
      'create', content, '-o', join(tempDir(t), 'shared.torrent'), '-p',
      '-a', tiers[0]!.join(','), '-a', tiers[1]![0]!, '-w', seeds[0]!, '-w', seeds[1]!
    ])
    t.is(result.exitCode, 0, result.stderr)
    const printed = parseCreateOutput(result.stdout)
    // Both clients add a trailing slash to the web seeds of a multi-file torrent (BEP 19).
    const seen = kind === 'folder' ? seeds.map((url) => url.endsWith('/') ? url : `${url}/`) : seeds

    const lt = await inspectWithLibtorrent(printed.torrent, dirname(content))
    t.is(lt.info_hash, printed.infoHash)
    t.true(lt.private)
    // libtorrent shuffles the URLs inside a tier, as BEP 12 asks.
    t.deepEqual(lt.announce_tiers.map((tier) => [...tier].sort()), tiers.map((tier) => [...tier].sort()))
    t.deepEqual(lt.url_seeds, seen)
    t.deepEqual(lt.http_seeds, [])
    t.is(lt.check?.pieces_verified, lt.num_pieces)

    const tr = await transmissionShow(printed.torrent)
    t.is(tr.hash, printed.infoHash)
    t.true(tr.private)
    t.deepEqual(tr.trackerTiers, tiers)
    t.deepEqual(tr.webSeeds, seen)

    const ours = parseTorrent(readFileSync(printed.torrent))
    t.true(ours.private)
    t.deepEqual(ours.announceList, tiers)
    t.deepEqual(ours.urlList, seeds)
  })
}

test('a torrent whose info dictionary is not in BEP 3 order: our infohash is libtorrent\'s, from the raw bytes', async (t) => {
  // Keys out of order and an unknown one, as a careless tool might write them.
  const info = Buffer.concat([Buffer.from('d4:name5:a.bin6:pieces20:'), Buffer.alloc(20, 7), Buffer.from('12:piece lengthi16384e6:lengthi100e1:zi0ee')])
  const path = join(tempDir(t), 'unsorted.torrent')
  writeFileSync(path, Buffer.concat([Buffer.from('d4:info'), info, Buffer.from('e')]))
  const lt = await inspectWithLibtorrent(path)
  t.is(parseTorrent(readFileSync(path)).infoHash as string, lt.info_hash)
  // transmission 3.00 hashes its own re-encoding instead; it is not the reference here.
})
