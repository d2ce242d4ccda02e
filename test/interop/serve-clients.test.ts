import test, { type ExecutionContext } from 'ava'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { writeTree, type FileContent } from '../helpers/content.js'
import { ServeProcess, type LogLine } from '../helpers/serve-process.js'
import { tempDir } from '../helpers/temp-dir.js'
import { aria2Downloader } from './clients/aria2.js'
import type { Downloader, DownloadRequest } from './clients/downloader.js'
import { downloaders } from './clients/downloaders.js'
import { libtorrentDownloader } from './clients/libtorrent.js'
import { sha256Tree } from './clients/sha256-tree.js'
import { magnetWithoutWebSeeds, torrentWithoutWebSeeds } from './clients/without-web-seeds.js'

// Real clients download what `evertorrent serve` publishes, finding the everseed through serve's tracker
// alone: web seeds are stripped from the .torrent files and magnet links, DHT, LSD and PEX are off.

const isPublished = (line: LogLine): boolean => line.msg === 'published'
const timeoutMs = 60_000

interface Served {
  readonly serve: ServeProcess
  readonly root: string
  /** Relative path under the library → SHA-256, for every published file. */
  readonly library: Record<string, string>
  readonly published: LogLine[]
}

async function serveLibrary (t: ExecutionContext, files: Readonly<Record<string, FileContent>>, items: number, settings: Readonly<Record<string, unknown>> = {}): Promise<Served> {
  const root = tempDir(t, 'evertorrent-serve-clients-')
  const library = join(root, 'library')
  writeTree(library, files)
  const serve = await ServeProcess.start(t, { libraries: [library], stateDir: join(root, 'state'), settings })
  const published = await serve.waitForCount(isPublished, items, 60_000)
  return { serve, root, library: await sha256Tree(library), published }
}

/** A download request for a published item, from its .torrent file or its magnet link, web seeds removed. */
async function requestFor (served: Served, line: LogLine, via: 'torrent' | 'magnet', saveDir: string, label: string): Promise<DownloadRequest> {
  if (via === 'magnet') return { magnet: magnetWithoutWebSeeds(line.magnet!), saveDir, timeoutMs }
  const torrentFile = join(served.root, 'torrents', `${label}.torrent`)
  await mkdir(join(served.root, 'torrents'), { recursive: true })
  await writeFile(torrentFile, torrentWithoutWebSeeds(await readFile(line.torrent!)))
  return { torrentFile, saveDir, timeoutMs }
}

/** The library's hashes for one published item (a file, or a folder and everything in it). */
function itemTree (served: Served, name: string): Record<string, string> {
  return Object.fromEntries(Object.entries(served.library).filter(([path]) => path === name || path.startsWith(`${name}/`)))
}

async function downloadAndCompare (t: ExecutionContext, served: Served, client: Downloader, line: LogLine, via: 'torrent' | 'magnet', label: string): Promise<void> {
  const saveDir = join(served.root, 'downloads', label)
  await mkdir(saveDir, { recursive: true })
  try {
    await client.download(await requestFor(served, line, via, saveDir, label))
  } catch (error) {
    t.log(`--- evertorrent serve ---\n${served.serve.describe()}`)
    throw error
  }
  t.deepEqual(await sha256Tree(saveDir), itemTree(served, line.name!), `${label}: the downloaded bytes are the published ones`)
}

for (const client of downloaders) {
  test(`${client.name} downloads a multi-file and a single-file item from serve, from .torrent files and magnet links`, async (t) => {
    const served = await serveLibrary(t, {
      [`${client.name} album/one.bin`]: 1024 * 1024 + 3,
      [`${client.name} album/disc 2/two.bin`]: 700_000,
      [`${client.name} album/notes.txt`]: `published for ${client.name}`,
      [`${client.name}.bin`]: 2 * 1024 * 1024 + 99
    }, 2)
    // The two items in parallel; for each, the .torrent download ends (and leaves the swarm) before the magnet one starts.
    await Promise.all(served.published.map(async (line) => {
      for (const via of ['torrent', 'magnet'] as const) await downloadAndCompare(t, served, client, line, via, `${line.name!} via ${via}`)
    }))
    t.true(served.serve.running)
  })
}

test('20 concurrent downloaders complete and serve stays up', async (t) => {
  // Twenty clients on one host (127.0.0.1) stand for twenty hosts: lift the per-address bound for them.
  const served = await serveLibrary(t, { 'crowd/a.bin': 3 * 1024 * 1024, 'crowd/b/c.bin': 1024 * 1024 + 1 }, 1, { 'seeder.max_connections_per_address': 40 })
  const line = served.published[0]!
  const crowd = Array.from({ length: 20 }, (_, index) => index % 2 === 0 ? aria2Downloader : libtorrentDownloader)
  // A libtorrent that dies of SIGSEGV is started once more by its client helper (clients/libtorrent.ts).
  await Promise.all(crowd.map(async (client, index) => { await downloadAndCompare(t, served, client, line, 'torrent', `${client.name} ${index}`) }))
  t.true(served.serve.running)
  const torrent = await fetch(`http://127.0.0.1:${served.serve.httpPort}/torrents/${line.infohash!}.torrent`)
  t.is(torrent.status, 200, 'serve still answers')
  t.is(await served.serve.stop(), 0, 'and stops cleanly on SIGTERM')
})
