import test from 'ava'
import { randomBytes } from 'node:crypto'
import type { PublishedTorrent } from '../../appliance/catalog/catalog.js'
import { buildMetainfo } from '../../appliance/metainfo/metainfo.js'
import { findWebSeedFile, parseWebSeedPath } from '../../appliance/web/web-seed-path.js'

const IH = 'ab'.repeat(20)

test('a web seed path splits into the infohash and decoded segments', (t) => {
  t.deepEqual(parseWebSeedPath(`${IH}/name.iso`), { infoHash: IH, segments: ['name.iso'] })
  t.deepEqual(parseWebSeedPath(`${IH.toUpperCase()}/My%20Show/S01/%C3%A9p%2B1.mkv`), { infoHash: IH, segments: ['My Show', 'S01', 'ép+1.mkv'] })
})

test('traversal, encoded slashes and NULs are 400; other shapes are 404', (t) => {
  for (const rest of [`${IH}/..`, `${IH}/name/../x`, `${IH}/%2e%2e/x`, `${IH}/.`, `${IH}/a%2Fb`, `${IH}/a%2fb`, `${IH}/a%00`, `${IH}/%E0%A4%A`, `${IH}/%zz`]) {
    t.deepEqual(parseWebSeedPath(rest), { status: 400 }, rest)
  }
  for (const rest of ['', IH, `${IH}/`, `${IH}//etc/passwd`, `${IH}/name/`, '../etc/passwd', 'nothex/x', `${IH}0/x`]) {
    t.deepEqual(parseWebSeedPath(rest), { status: 404 }, rest)
  }
})

function published (files: Array<{ path: string[], length: number }>, name: string): PublishedTorrent {
  const metainfo = buildMetainfo({ name, pieceLength: 16384, pieces: randomBytes(20), files })
  return { metainfo, files: files.map((_, index) => ({ absolutePath: `/data/${index}`, size: 1, mtimeMs: 0, ino: 0 })) }
}

test('only exact matches with the file list name a file', (t) => {
  const single = published([{ path: [], length: 10 }], 'one.bin')
  t.is(findWebSeedFile(single, ['one.bin']), 0)
  t.is(findWebSeedFile(single, ['one.bin', 'x']), undefined)
  t.is(findWebSeedFile(single, ['ONE.bin']), undefined)

  const multi = published([{ path: ['a', 'b.txt'], length: 10 }, { path: ['c.txt'], length: 10 }], 'folder')
  t.is(findWebSeedFile(multi, ['folder', 'a', 'b.txt']), 0)
  t.is(findWebSeedFile(multi, ['folder', 'c.txt']), 1)
  t.is(findWebSeedFile(multi, ['folder', 'a']), undefined, 'a folder is not a file')
  t.is(findWebSeedFile(multi, ['folder']), undefined)
  t.is(findWebSeedFile(multi, ['c.txt']), undefined)
  t.is(findWebSeedFile(multi, ['folder', 'a/b.txt']), undefined)
})

test('in a torrent of thousands of files every file is found by its path, sorted or not', (t) => {
  const paths = Array.from({ length: 3000 }, (_, index) => [`d${index % 37}`, `f\u{1F600}${index}`, '\uE000'].slice(0, 2 + (index % 2)))
  const sorted = [...paths].sort((a, b) => Buffer.compare(Buffer.from(a.join('/')), Buffer.from(b.join('/'))))
  for (const order of [sorted, [...sorted].reverse()]) {
    const torrent = published(order.map((path) => ({ path, length: 1 })), 'many')
    for (const index of [0, 1, 1234, 2999]) t.is(findWebSeedFile(torrent, ['many', ...order[index]!]), index)
    t.is(findWebSeedFile(torrent, ['many', 'd0']), undefined)
    t.is(findWebSeedFile(torrent, ['many', 'nothing', 'here']), undefined)
  }
})
