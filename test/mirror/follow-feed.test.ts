import test, { type ExecutionContext } from 'ava'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { writeTree } from '../helpers/content.js'
import { ServeProcess, type LogLine } from '../helpers/serve-process.js'
import { tempDir } from '../helpers/temp-dir.js'
import { libtorrentDownloader } from '../interop/clients/libtorrent.js'
import { sha256Tree } from '../interop/clients/sha256-tree.js'

interface MirrorDoc {
  readonly origin: string
  readonly items: number
  readonly bytes: number
  readonly lastUpdateAt?: number
  readonly refused: { readonly count: number, readonly lastReason?: string }
  readonly dropped: { readonly count: number, readonly lastReason?: string }
}

async function mirrorsOf (serve: ServeProcess): Promise<MirrorDoc[]> {
  const response = await fetch(`http://127.0.0.1:${serve.httpPort}/api/status`)
  return ((await response.json()) as { mirrors: MirrorDoc[] }).mirrors
}

function follower (root: string, name: string, feedUrl: string, extra: Record<string, unknown> = {}): { stateDir: string, folder: string, settings: Record<string, unknown> } {
  const folder = join(root, name, 'mirror')
  return { stateDir: join(root, name, 'state'), folder, settings: { mirror: [{ feed: feedUrl, folder, poll_seconds: 10, ...extra }] } }
}

const complete = (line: LogLine): boolean => line.msg === 'mirror item complete'

/** Box A publishing `items` (one folder each, odd sizes so pieces span files), ready with all of them published. */
async function origin (t: ExecutionContext, root: string, items: Readonly<Record<string, number>>): Promise<{ serve: ServeProcess, library: string }> {
  const library = join(root, 'a', 'library')
  writeTree(library, items)
  const serve = await ServeProcess.start(t, { libraries: [library], stateDir: join(root, 'a', 'state') })
  const names = new Set(Object.keys(items).map((path) => path.split('/')[0]!))
  await serve.waitForCount((line) => line.msg === 'published', names.size, 120_000)
  return { serve, library }
}

test('by feed URL, without DHT: B mirrors and everseeds A\'s three items; libtorrent completes them from B alone once A is gone; a fourth item is picked up without a restart', async (t) => {
  const root = tempDir(t)
  const a = await origin(t, root, { 'one/a.bin': 700_001, 'one/b.txt': 3_000, 'two.bin': 1_200_000, 'three/deep/c.bin': 450_000 })
  const feedUrl = `http://127.0.0.1:${a.serve.httpPort}/feed.json`
  const b = follower(root, 'b', feedUrl)
  const serveB = await ServeProcess.start(t, { libraries: [], stateDir: b.stateDir, settings: b.settings })
  const done = await serveB.waitForCount(complete, 3, 120_000)
  const infoHashes = done.map((line) => line.infohash!)
  const [mirror] = await mirrorsOf(serveB)
  t.is(mirror!.origin, feedUrl)
  t.is(mirror!.items, 3)
  t.is(mirror!.refused.count, 0)
  // B publishes each under A's infohash, with its own tracker and web seed first.
  const torrents = join(root, 'torrents')
  await mkdir(torrents, { recursive: true })
  for (const infoHash of infoHashes) {
    const response = await fetch(`http://127.0.0.1:${serveB.httpPort}/torrents/${infoHash}.torrent`)
    t.is(response.status, 200, `B serves ${infoHash}`)
    const bytes = Buffer.from(await response.arrayBuffer())
    t.true(bytes.includes(Buffer.from(`127.0.0.1:${serveB.trackerPort}/announce`)), 'B\'s tracker is in its .torrent')
    await writeFile(join(torrents, `${infoHash}.torrent`), bytes)
  }
  const portsA = a.serve.ports
  await a.serve.stop()
  const saved = join(root, 'lt')
  for (const infoHash of infoHashes) {
    await libtorrentDownloader.download({ torrentFile: join(torrents, `${infoHash}.torrent`), saveDir: saved, timeoutMs: 120_000 })
  }
  t.deepEqual(await sha256Tree(saved), await sha256Tree(a.library))

  // A back with the same state and ports, and a fourth item: B follows without a restart.
  writeTree(a.library, { 'four.bin': 333_333 })
  const again = await ServeProcess.start(t, { libraries: [a.library], stateDir: join(root, 'a', 'state'), ports: portsA })
  await again.waitFor((line) => line.msg === 'published' && line.name === 'four.bin', 120_000)
  const fourth = await serveB.waitForCount(complete, 4, 120_000)
  t.is(fourth[3]!.name, 'four.bin')
  t.is((await mirrorsOf(serveB))[0]!.items, 4)

  // B restarted: its four items are published again from what it recorded, nothing downloaded or hashed.
  await serveB.stop()
  const restarted = await ServeProcess.start(t, { libraries: [], stateDir: b.stateDir, settings: b.settings })
  t.is((await restarted.waitFor((line) => line.msg === 'mirror restored')).items, '4')
  t.is((await restarted.waitFor((line) => line.msg === 'mirror up to date', 60_000)).held, '4')
  t.false(restarted.lines.some((line) => line.msg === 'mirror downloading' || line.msg === 'hashing'))
  t.is((await mirrorsOf(restarted))[0]!.items, 4)
  t.is((await fetch(`http://127.0.0.1:${restarted.httpPort}/torrents/${infoHashes[0]!}.torrent`)).status, 200)
})
