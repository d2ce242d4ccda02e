import { createHash } from 'node:crypto'
import { join } from 'node:path'
import test, { type ExecutionContext } from 'ava'
import { createTorrent } from '../../appliance/metainfo/create-torrent.js'
import { MetainfoError } from '../../appliance/metainfo/errors.js'
import { magnetUri } from '../../appliance/metainfo/magnet.js'
import { encodeTorrent, parseTorrent, truncatedInfoHash, type Metainfo } from '../../appliance/metainfo/metainfo.js'
import { writeTree } from '../helpers/content.js'
import { tempDir } from '../helpers/temp-dir.js'

/*
 * Hybrid and v2 torrents (BEP 52) as parseTorrent reads them back, and hand-made ones it must
 * refuse. libtorrent's agreement on the same torrents is in test/interop/create-v2.test.ts.
 */

const KiB = 1024

async function made (t: ExecutionContext, format: 'hybrid' | 'v2'): Promise<Metainfo> {
  const root = join(tempDir(t), 'set')
  writeTree(root, { 'big.bin': 100_000, 'empty': '', 'sub/small.bin': 3000, 'sub/two-pieces.bin': 32 * KiB })
  return (await createTorrent(root, { format, pieceLength: 16 * KiB, threads: 2 })).metainfo
}

function refusal (t: ExecutionContext, bytes: Uint8Array): string {
  const error = t.throws(() => parseTorrent(bytes), { instanceOf: MetainfoError })
  t.is(error?.code, 'ET_BAD_TORRENT')
  return error?.message ?? ''
}

for (const format of ['hybrid', 'v2'] as const) {
  test(`a ${format} torrent reads back as it was made`, async (t) => {
    const metainfo = await made(t, format)
    const read = parseTorrent(encodeTorrent(metainfo))
    t.is(read.format, format)
    t.is(read.infoHash, metainfo.infoHash)
    t.is(read.infoHashV2, metainfo.infoHashV2)
    t.is(read.infoHashV2 as string | undefined, createHash('sha256').update(metainfo.infoBytes).digest('hex'))
    t.is(read.pieceCount, metainfo.pieceCount)
    t.is(read.totalBytes, metainfo.totalBytes)
    t.true(read.piecesRoots!.equals(metainfo.piecesRoots!))
    t.deepEqual([...read.pieceLayers!.entries()], [...metainfo.pieceLayers!.entries()])
    t.deepEqual([...read.files], [...metainfo.files])
    // Files on piece boundaries; pad files are no entries, the piece space counts them.
    t.deepEqual([...read.files].map((file) => [file.path.join('/'), file.length, file.offset]), [
      ['big.bin', 100_000, 0], ['empty', 0, 7 * 16 * KiB], ['sub/small.bin', 3000, 7 * 16 * KiB], ['sub/two-pieces.bin', 32 * KiB, 8 * 16 * KiB]
    ])
    t.is(read.totalBytes, 10 * 16 * KiB)
    t.is(read.pieceCount, 10)
    t.is(read.pieces.length, format === 'hybrid' ? 200 : 0)
    // Layers for the files larger than a piece only.
    t.is(read.pieceLayers!.size, 2)
  })
}

test('the v2 infohash: a btmh magnet beside the btih of a hybrid, alone for v2; v2-only torrents go by its first 20 bytes', async (t) => {
  const hybrid = await made(t, 'hybrid')
  t.regex(magnetUri(hybrid), new RegExp(`^magnet:\\?xt=urn:btih:${hybrid.infoHash}&xt=urn:btmh:1220${hybrid.infoHashV2!}&dn=set&xl=135768$`))
  const v2 = await made(t, 'v2')
  t.regex(magnetUri(v2), new RegExp(`^magnet:\\?xt=urn:btmh:1220${v2.infoHashV2!}&dn=set&xl=135768$`))
  t.is(v2.infoHash, truncatedInfoHash(v2.infoHashV2!))
  t.is(truncatedInfoHash(hybrid.infoHashV2!).length, 40)
})

test('a piece layer of the wrong length is refused', async (t) => {
  const metainfo = await made(t, 'hybrid')
  const layers = new Map([...metainfo.pieceLayers!].map(([root, layer]) => [root, layer.length > 64 ? layer.subarray(32) : layer]))
  t.regex(refusal(t, encodeTorrent({ ...metainfo, pieceLayers: layers })), /piece layer of big\.bin holds 192 bytes, not 7 SHA-256 digests/)
})

test('a piece layer whose merkle root is not the file\'s pieces root is refused', async (t) => {
  for (const format of ['hybrid', 'v2'] as const) {
    const metainfo = await made(t, format)
    const layers = new Map([...metainfo.pieceLayers!].map(([root, layer]) => {
      const changed = Buffer.from(layer)
      if (changed.length === 64) changed[40]! ^= 1
      return [root, changed]
    }))
    t.regex(refusal(t, encodeTorrent({ ...metainfo, pieceLayers: layers })), /piece layer of sub\/two-pieces\.bin does not hash to the file's pieces root/)
  }
})

test('a missing piece layer, or one for no file, is refused', async (t) => {
  const metainfo = await made(t, 'v2')
  const [first, second] = [...metainfo.pieceLayers!]
  t.regex(refusal(t, encodeTorrent({ ...metainfo, pieceLayers: new Map([first!]) })), /piece layers has no layer for/)
  const stray = new Map([first!, second!, ['ab'.repeat(32), Buffer.alloc(64)]])
  t.regex(refusal(t, encodeTorrent({ ...metainfo, pieceLayers: stray })), /piece layers holds a layer whose pieces root is no file's/)
})

test('hand-made hybrid and v2 torrents with a bad file tree or meta version are refused', async (t) => {
  const hybrid = encodeTorrent(await made(t, 'hybrid'))
  const replace = (bytes: Buffer, from: string, to: string, occurrence = 0): Buffer => {
    let at = -1
    for (let seen = 0; seen <= occurrence; seen++) at = bytes.indexOf(from, at + 1)
    t.true(at >= 0, from)
    return Buffer.concat([bytes.subarray(0, at), Buffer.from(to), bytes.subarray(at + from.length)])
  }
  t.regex(refusal(t, replace(hybrid, '12:meta versioni2e', '12:meta versioni3e')), /meta version 3 is not supported/)
  // The file tree comes first in the info dictionary, the v1 list second.
  t.regex(refusal(t, replace(hybrid, '3:sub', '3:s/b')), /info.file tree has an unsafe name: it contains "\/"/)
  t.regex(refusal(t, replace(hybrid, '3:sub', '3:suc', 1)), /v1 file list is not the file tree's files/)
  t.regex(refusal(t, replace(hybrid, '11:pieces root32:', '11:pieces rooz32:')), /has no 32-byte pieces root/)
  t.regex(refusal(t, replace(hybrid, '9:file tree', '9:file treX')), /no info\.file tree/)
  const v2 = encodeTorrent(await made(t, 'v2'))
  t.regex(refusal(t, replace(v2, '7:big.bin', '7:zig.bin')), /keys out of order/)
})
