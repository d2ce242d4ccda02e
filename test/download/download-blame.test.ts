import test from 'ava'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { DownloadError } from '../../appliance/download/download-errors.js'
import { createTorrent } from '../../appliance/metainfo/create-torrent.js'
import { encodeTorrent } from '../../appliance/metainfo/metainfo.js'
import { pseudoRandomBytes } from '../helpers/content.js'
import { tempDir } from '../helpers/temp-dir.js'
import { sha256Tree } from '../interop/clients/sha256-tree.js'
import { startHostileSeed, watchDownload } from './peers.js'

test('when a corrupt peer and an honest one both sent blocks of a bad piece, the piece is fetched again from one of them, and the one whose blocks differ from the good piece is banned', async (t) => {
  const root = tempDir(t)
  const content = pseudoRandomBytes('blame', 2 * 1024 * 1024)
  writeFileSync(join(root, 'item.bin'), content)
  // Large pieces (256 KiB, 16 blocks) asked of both peers at once: most pieces get blocks from both.
  const { metainfo } = await createTorrent(join(root, 'item.bin'), { announceList: [], pieceLength: 256 * 1024 })
  const common = { infoHash: metainfo.infoHash, pieceCount: metainfo.pieceCount, pieceLength: metainfo.pieceLength, content }
  const corrupt = await startHostileSeed(t, { ...common, host: '127.0.0.2', corrupt: true })
  const honest = await startHostileSeed(t, { ...common, host: '127.0.0.3', corrupt: false })
  const folder = join(root, 'mirror')
  const watched = await watchDownload(t, {
    infoHash: metainfo.infoHash,
    metainfo: encodeTorrent(metainfo),
    peers: [{ host: corrupt.host, port: corrupt.port }, { host: honest.host, port: honest.port }],
    folder,
    resumePath: join(root, 'resume'),
    limits: { maxRequestsPerPeer: 4, maxActivePieces: 2 }
  })
  const outcome = await watched.outcome
  if (outcome instanceof DownloadError) return t.fail(`${outcome.code}: ${outcome.message}`)
  t.true(corrupt.blocksSent() > 0 && honest.blocksSent() > 0, `blocks sent: corrupt ${corrupt.blocksSent()}, honest ${honest.blocksSent()}`)
  t.deepEqual(watched.banned, [`${corrupt.host}:${corrupt.port}`])
  t.deepEqual(await sha256Tree(folder), { 'item.bin': (await sha256Tree(root))['item.bin'] })
})
