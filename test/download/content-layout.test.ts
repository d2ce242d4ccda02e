import test from 'ava'
import { join } from 'node:path'
import { planContent } from '../../appliance/download/content-layout.js'
import { DownloadError } from '../../appliance/download/download-errors.js'
import { createTorrent } from '../../appliance/metainfo/create-torrent.js'
import { writeTree } from '../helpers/content.js'
import { tempDir } from '../helpers/temp-dir.js'

const PIECE = 16 * 1024

test('a hybrid torrent\'s layout has its BEP 47 pad files in place: each real file at its piece-aligned offset, keeping its own attributes', async (t) => {
  const root = tempDir(t)
  writeTree(join(root, 'album'), { 'a.bin': 100, 'b.bin': PIECE + 5, 'c.txt': 7 })
  const { metainfo } = await createTorrent(join(root, 'album'), { format: 'hybrid', pieceLength: PIECE, threads: 1 })
  const layout = planContent(metainfo)
  t.deepEqual(layout.files.map((file) => [file.segments.join('/'), file.offset, file.length, file.pad]), [
    ['album/a.bin', 0, 100, false],
    [`album/.pad/${PIECE - 100}`, 100, PIECE - 100, true],
    ['album/b.bin', PIECE, PIECE + 5, false],
    [`album/.pad/${PIECE - 5}`, 2 * PIECE + 5, PIECE - 5, true],
    ['album/c.txt', 3 * PIECE, 7, false],
    [`album/.pad/${PIECE - 7}`, 3 * PIECE + 7, PIECE - 7, true]
  ])
  t.is(layout.totalBytes, 4 * PIECE)
})

test('a v2-only torrent is refused with a clear error: its pieces have no SHA-1 to check them by', async (t) => {
  const root = tempDir(t)
  writeTree(join(root, 'album'), { 'a.bin': 100, 'b.bin': PIECE + 5 })
  const { metainfo } = await createTorrent(join(root, 'album'), { format: 'v2', pieceLength: PIECE, threads: 1 })
  const error = t.throws(() => planContent(metainfo), { instanceOf: DownloadError })
  t.is(error?.code, 'ET_BAD_METADATA')
  t.regex(error?.message ?? '', /v2-only torrent \(BEP 52\)/)
})
