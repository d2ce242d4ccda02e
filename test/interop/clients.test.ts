import test from 'ava'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createTorrent } from '../../appliance/metainfo/create-torrent.js'
import { magnetUri } from '../../appliance/metainfo/magnet.js'
import { encodeTorrent, type Metainfo } from '../../appliance/metainfo/metainfo.js'
import { writeTree } from '../helpers/content.js'
import { makeTempDir, removeTempDir } from '../helpers/temp-dir.js'
import { ClientProcess } from './clients/client-process.js'
import { ClientError, type DownloadRequest } from './clients/downloader.js'
import { downloaders } from './clients/downloaders.js'
import { startLibtorrentSeed, type LibtorrentSeed } from './clients/libtorrent-seed.js'
import { sha256Tree } from './clients/sha256-tree.js'
import { startStandInTracker, type StandInTracker } from './clients/stand-in-tracker.js'

// Proves the client drivers against a stand-in swarm (bittorrent-tracker + a libtorrent seed) until
// `evertorrent serve` exists. Every client gets torrents of its own, so the downloads run side by side
// without one client's peers getting in another's way.

type Shape = 'single-file' | 'multi-file'
interface Case { readonly shape: Shape, readonly via: 'torrent' | 'magnet' }
const cases: readonly Case[] = [{ shape: 'single-file', via: 'torrent' }, { shape: 'multi-file', via: 'torrent' }, { shape: 'multi-file', via: 'magnet' }]

interface Published {
  readonly metainfo: Metainfo
  readonly torrentFile: string
  /** Holds the content under the torrent's name, and nothing else. */
  readonly contentDir: string
}

let root: string
let tracker: StandInTracker
let seed: LibtorrentSeed
const published = new Map<string, Published>()
const key = (client: string, { shape, via }: Case): string => `${client} ${shape} ${via}`

test.before(async () => {
  root = makeTempDir('evertorrent-clients-')
  tracker = await startStandInTracker()
  await mkdir(join(root, 'torrents'))
  for (const client of downloaders) {
    for (const item of cases) {
      const label = `${client.name}-${item.shape}-${item.via}`
      const contentDir = join(root, 'content', label)
      const { metainfo } = await createTorrent(makeContent(contentDir, label, item.shape), { announceList: [[tracker.announceUrl]] })
      const torrentFile = join(root, 'torrents', `${label}.torrent`)
      await writeFile(torrentFile, encodeTorrent(metainfo))
      published.set(key(client.name, item), { metainfo, torrentFile, contentDir })
    }
  }
  seed = await startLibtorrentSeed([...published.values()].map(({ torrentFile, contentDir }) => ({ torrentFile, saveDir: contentDir })))
})

test.after.always(async () => {
  await seed?.close()
  await tracker?.close()
  if (root !== undefined) removeTempDir(root)
})

test('every client reports its version', async (t) => {
  for (const client of downloaders) {
    const version = await client.version()
    t.log(version)
    t.regex(version, /\d+\.\d+/)
  }
})

for (const client of downloaders) {
  for (const item of cases) {
    test(`${client.name} downloads a ${item.shape} torrent from a ${item.via === 'torrent' ? '.torrent file' : 'magnet link'}`, async (t) => {
      const { metainfo, torrentFile, contentDir } = published.get(key(client.name, item))!
      const saveDir = join(root, 'downloads', `${client.name}-${item.shape}-${item.via}`)
      await mkdir(saveDir, { recursive: true })
      const request: DownloadRequest = item.via === 'torrent'
        ? { torrentFile, saveDir, timeoutMs: 60_000 }
        : { magnet: magnetUri(metainfo), saveDir, timeoutMs: 60_000 }
      try {
        await client.download(request)
      } catch (error) {
        t.log(`--- libtorrent seed log tail ---\n${seed.logTail()}`)
        throw error
      }
      t.deepEqual(await sha256Tree(saveDir), await sha256Tree(contentDir))
    })
  }
}

test('a download nobody seeds fails with a timeout and the client\'s log', async (t) => {
  const contentDir = join(root, 'unseeded')
  const { metainfo } = await createTorrent(makeContent(contentDir, 'unseeded', 'single-file'), { announceList: [[tracker.announceUrl]] })
  const saveDir = join(root, 'downloads', 'unseeded')
  await mkdir(saveDir, { recursive: true })
  const aria2 = downloaders.find((client) => client.name === 'aria2')!
  const error = await t.throwsAsync(aria2.download({ magnet: magnetUri(metainfo), saveDir, timeoutMs: 2000 }), { instanceOf: ClientError })
  t.is(error?.code, 'ET_DOWNLOAD_TIMEOUT')
  t.regex(error?.message ?? '', /aria2 log tail/)
})

test('a client that is not installed is a loud error, not a skip', async (t) => {
  const error = await t.throwsAsync(ClientProcess.start('nowhere', 'evertorrent-no-such-client', []), { instanceOf: ClientError })
  t.is(error?.code, 'ET_CLIENT_MISSING')
})

/**
 * Pseudo-random bytes under `dir`, different for every `label` (so every torrent has a swarm of its own):
 * one file, or a folder whose files straddle pieces and whose names need quoting. Returns the path to publish.
 */
function makeContent (dir: string, label: string, shape: Shape): string {
  if (shape === 'single-file') {
    writeTree(dir, { [`${label}.bin`]: 3 * 1024 * 1024 + 12_345 })
    return join(dir, `${label}.bin`)
  }
  writeTree(dir, {
    [`${label} folder/a.bin`]: 1024 * 1024 + 7,
    [`${label} folder/nested/b.bin`]: 500_000,
    [`${label} folder/nested/deeper/c – é.txt`]: 1000,
    [`${label} folder/z.bin`]: 2 * 1024 * 1024
  })
  return join(dir, `${label} folder`)
}
