import test from 'ava'
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import bencode from 'bencode'
import { decodeResume } from '../../appliance/download/resume-state.js'
import { parseTorrent, type InfoHash } from '../../appliance/metainfo/metainfo.js'
import { writeTree } from '../helpers/content.js'
import { ServeProcess } from '../helpers/serve-process.js'
import { tempDir } from '../helpers/temp-dir.js'
import { sha256Tree } from '../interop/clients/sha256-tree.js'
import { slowWebSeed, startFeedServer } from './feed-server.js'

interface MirrorDoc {
  readonly items: number
  readonly refused: { readonly count: number, readonly lastReason?: string }
  readonly dropped: { readonly count: number, readonly lastReason?: string }
  readonly downloading?: { readonly verifiedBytes: number }
}

async function mirrorOf (serve: ServeProcess): Promise<MirrorDoc> {
  const response = await fetch(`http://127.0.0.1:${serve.httpPort}/api/status`)
  return ((await response.json()) as { mirrors: MirrorDoc[] }).mirrors[0]!
}

async function until<T> (what: string, probe: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}

/** A JSON Feed item as evertorrent writes it, for `infoHash` with its .torrent at `torrentUrl`. */
function feedItem (infoHash: string, name: string, bytes: number, torrentUrl: string): Record<string, unknown> {
  return {
    id: `urn:btih:${infoHash}`,
    title: name,
    attachments: [{ url: torrentUrl, mime_type: 'application/x-bittorrent' }],
    _torrent: { info_hash: infoHash, magnet_uri: `magnet:?xt=urn:btih:${infoHash}`, content_length: bytes }
  }
}

function jsonFeed (items: ReadonlyArray<Record<string, unknown>>): string {
  return JSON.stringify({ version: 'https://jsonfeed.org/version/1.1', title: 'hostile', items })
}

/** A box publishing `items`; the .torrent of each by name. */
async function publisher (t: Parameters<typeof tempDir>[0], root: string, items: Readonly<Record<string, number>>): Promise<{ serve: ServeProcess, library: string, torrents: Map<string, Buffer> }> {
  const library = join(root, 'a', 'library')
  writeTree(library, items)
  const serve = await ServeProcess.start(t, { libraries: [library], stateDir: join(root, 'a', 'state') })
  const published = await serve.waitForCount((line) => line.msg === 'published', new Set(Object.keys(items).map((path) => path.split('/')[0])).size, 120_000)
  const torrents = new Map<string, Buffer>()
  for (const line of published) torrents.set(line.name!, await readFile(line.torrent!))
  return { serve, library, torrents }
}

test('a feed entry whose .torrent does not hash to the infohash it states is refused, logged and shown, never downloaded; the honest entry is mirrored', async (t) => {
  const root = tempDir(t)
  const a = await publisher(t, root, { 'honest.bin': 200_000, 'other.bin': 150_000 })
  const honest = parseTorrent(a.torrents.get('honest.bin')!)
  const other = parseTorrent(a.torrents.get('other.bin')!)
  // The lie: an infohash nobody publishes, with other.bin's .torrent behind it.
  const claimed = 'ab'.repeat(20)
  const hostile = await startFeedServer(t, {
    '/feed.json': (_, response) => {
      response.writeHead(200, { 'content-type': 'application/feed+json' }).end(jsonFeed([
        feedItem(claimed, 'liar', other.totalBytes, '/liar.torrent'),
        feedItem(honest.infoHash, 'honest.bin', honest.totalBytes, '/honest.torrent')
      ]))
    },
    '/liar.torrent': (_, response) => { response.writeHead(200).end(a.torrents.get('other.bin')) },
    '/honest.torrent': (_, response) => { response.writeHead(200).end(a.torrents.get('honest.bin')) }
  })
  const folder = join(root, 'b', 'mirror')
  const b = await ServeProcess.start(t, { libraries: [], stateDir: join(root, 'b', 'state'), settings: { mirror: [{ feed: `${hostile.origin}/feed.json`, folder, poll_seconds: 10 }] } })
  const refusal = await b.waitFor((line) => line.msg === 'mirror entry refused', 60_000)
  t.is(refusal.infohash, claimed)
  t.regex(refusal.reason!, new RegExp(`hashes to ${other.infoHash}, not to the infohash its feed entry states \\(${claimed}\\)`))
  await b.waitFor((line) => line.msg === 'mirror item complete' && line.infohash === honest.infoHash, 60_000)
  const mirror = await mirrorOf(b)
  t.is(mirror.items, 1)
  t.is(mirror.refused.count, 1)
  t.regex(mirror.refused.lastReason!, /not to the infohash its feed entry states/)
  t.false(existsSync(join(folder, claimed)), 'nothing of the refused entry was written')
  t.false(b.lines.some((line) => line.msg === 'mirror downloading' && line.infohash === claimed))
  t.is((await fetch(`http://127.0.0.1:${b.httpPort}/torrents/${claimed}.torrent`)).status, 404)
})

test('B SIGKILLed mid-download resumes after a restart: the pieces verified before are not received again', async (t) => {
  const root = tempDir(t)
  const a = await publisher(t, root, { 'big/part1.bin': 3_000_000, 'big/part2.bin': 2_000_001 })
  const torrent = a.torrents.get('big')!
  const metainfo = parseTorrent(torrent)
  // A's .torrent with no tracker and one slow web seed: the download takes seconds, not milliseconds.
  let servedBytes = 0
  const seedPrefix = '/seed/'
  const server = await startFeedServer(t, {
    '/feed.json': (_, response) => { response.writeHead(200).end(jsonFeed([feedItem(metainfo.infoHash, 'big', metainfo.totalBytes, '/big.torrent')])) },
    '/big.torrent': (_, response) => { response.writeHead(200).end(slowTorrent) }
  }, slowWebSeed(a.library, seedPrefix, 8 * 1024, (bytes) => { servedBytes += bytes }))
  const decoded = bencode.decode(torrent) as Record<string, unknown>
  const slowTorrent = Buffer.from(bencode.encode({ info: decoded.info, 'url-list': [`${server.origin}${seedPrefix}`] }))
  t.is(parseTorrent(slowTorrent).infoHash, metainfo.infoHash)
  await a.serve.stop()

  const stateDir = join(root, 'b', 'state')
  const folder = join(root, 'b', 'mirror')
  const settings = { mirror: [{ feed: `${server.origin}/feed.json`, folder, poll_seconds: 10 }] }
  const first = ServeProcess.spawn({ libraries: [], stateDir, settings })
  t.teardown(async () => { await first.stop() })
  await first.waitFor((line) => line.msg === 'ready', 30_000)
  // Killed once the resume state records a quarter of the pieces at least.
  const resumeFile = async (): Promise<string | undefined> => {
    const { readdir } = await import('node:fs/promises')
    for (const name of await readdir(join(stateDir, 'mirrors')).catch(() => [])) {
      if (existsSync(join(stateDir, 'mirrors', name, `${metainfo.infoHash}.resume`))) return join(stateDir, 'mirrors', name, `${metainfo.infoHash}.resume`)
    }
    return undefined
  }
  const recorded = async (): Promise<number> => {
    const file = await resumeFile()
    if (file === undefined) return 0
    const bitfield = decodeResume(await readFile(file).catch(() => Buffer.alloc(0)), metainfo.infoHash as InfoHash, metainfo.pieceCount)
    return bitfield === undefined ? 0 : [...bitfield].reduce((sum, byte) => sum + popCount(byte), 0)
  }
  const before = await until('a quarter of the pieces recorded', async () => { const n = await recorded(); return n >= metainfo.pieceCount / 4 ? n : undefined })
  first.child.kill('SIGKILL')
  await first.stop()
  t.false(first.lines.some((line) => line.msg === 'mirror item complete'), 'killed before it completed')
  const servedBeforeKill = servedBytes

  const second = await ServeProcess.start(t, { libraries: [], stateDir, settings })
  const done = await second.waitFor((line) => line.msg === 'mirror item complete', 180_000)
  const resumed = Number(done.resumed_pieces)
  const received = Number(done.received_bytes)
  t.true(resumed >= before, `resumed ${resumed} pieces, ${before} were recorded before the kill`)
  t.true(received + resumed * metainfo.pieceLength <= metainfo.totalBytes + metainfo.pieceLength, `received ${received} bytes again, with ${resumed} pieces of ${metainfo.pieceLength} resumed`)
  t.true(servedBytes - servedBeforeKill < metainfo.totalBytes, 'the web seed sent less than the whole item after the restart')
  t.deepEqual(await sha256Tree(join(folder, metainfo.infoHash)), await sha256Tree(a.library))
  t.is((await mirrorOf(second)).items, 1)
})

test('over max_bytes the oldest item goes: deleted, withdrawn, logged and shown', async (t) => {
  const root = tempDir(t)
  const library = join(root, 'a', 'library')
  writeTree(library, { 'first.bin': 300_000 })
  const a = await ServeProcess.start(t, { libraries: [library], stateDir: join(root, 'a', 'state'), settings: { 'library.rescan_interval': 1 } })
  const folder = join(root, 'b', 'mirror')
  const b = await ServeProcess.start(t, { libraries: [], stateDir: join(root, 'b', 'state'), settings: { mirror: [{ feed: `http://127.0.0.1:${a.httpPort}/feed.json`, folder, poll_seconds: 10, max_bytes: 700_000 }] } })
  const first = await b.waitFor((line) => line.msg === 'mirror item complete' && line.name === 'first.bin', 120_000)
  writeTree(library, { 'second.bin': 300_000 })
  await b.waitFor((line) => line.msg === 'mirror item complete' && line.name === 'second.bin', 120_000)
  t.true(existsSync(join(folder, first.infohash!)))
  writeTree(library, { 'third.bin': 300_000 })
  await b.waitFor((line) => line.msg === 'mirror item complete' && line.name === 'third.bin', 120_000)
  const dropped = await b.waitFor((line) => line.msg === 'mirror item dropped', 30_000)
  t.is(dropped.infohash, first.infohash)
  t.is(dropped.reason, 'over-quota')
  t.false(existsSync(join(folder, first.infohash!)), 'its folder was deleted')
  t.is((await fetch(`http://127.0.0.1:${b.httpPort}/torrents/${first.infohash!}.torrent`)).status, 404, 'B no longer publishes it')
  const mirror = await mirrorOf(b)
  t.is(mirror.items, 2)
  t.is(mirror.dropped.count, 1)
  t.regex(mirror.dropped.lastReason!, /first\.bin .*over max_bytes 700000/)
})

function popCount (byte: number): number {
  let count = 0
  for (let bits = byte; bits !== 0; bits >>= 1) count += bits & 1
  return count
}
