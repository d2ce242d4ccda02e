import test from 'ava'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { DownloadError } from '../../appliance/download/download-errors.js'
import { createTorrent } from '../../appliance/metainfo/create-torrent.js'
import { encodeTorrent } from '../../appliance/metainfo/metainfo.js'
import { writeTree } from '../helpers/content.js'
import { tempDir } from '../helpers/temp-dir.js'
import { startLibtorrentSeed } from '../interop/clients/libtorrent-seed.js'
import { sha256Tree } from '../interop/clients/sha256-tree.js'
import { watchDownload } from './peers.js'

for (const byInfoHash of [false, true]) {
  test(`downloads from a libtorrent seed (python3-libtorrent) ${byInfoHash ? 'by infohash only (BEP 9 from libtorrent)' : 'with the .torrent'}: the same SHA-256 for every file`, async (t) => {
    const root = tempDir(t)
    const library = join(root, 'library')
    writeTree(library, { 'set/a.bin': 2_500_000, 'set/b/c.bin': 1_000_003 })
    const { metainfo } = await createTorrent(join(library, 'set'), { announceList: [] })
    const torrentFile = join(root, 'set.torrent')
    writeFileSync(torrentFile, encodeTorrent(metainfo))
    const seed = await startLibtorrentSeed([{ torrentFile, saveDir: library }], { plaintext: true })
    t.teardown(async () => { await seed.close() })
    const folder = join(root, 'mirror')
    const watched = await watchDownload(t, {
      infoHash: metainfo.infoHash,
      ...(!byInfoHash && { metainfo: encodeTorrent(metainfo) }),
      peers: [{ host: '127.0.0.1', port: seed.port }],
      folder,
      resumePath: join(root, 'resume')
    })
    const outcome = await watched.outcome
    if (outcome instanceof DownloadError) return t.fail(`${outcome.code}: ${outcome.message}\n${seed.logTail()}`)
    t.deepEqual(await sha256Tree(folder), await sha256Tree(library))
  })
}
