import test, { type ExecutionContext } from 'ava'
import { readFile, truncate, writeFile } from 'node:fs/promises'
import { createInterface } from 'node:readline'
import { join } from 'node:path'
import { decodeResume } from '../../appliance/download/resume-state.js'
import { parseTorrent, type InfoHash } from '../../appliance/metainfo/metainfo.js'
import { exitOf, spawnTracked, stopChild } from '../helpers/child-process.js'
import { writeTree } from '../helpers/content.js'
import { ServeProcess } from '../helpers/serve-process.js'
import { tempDir } from '../helpers/temp-dir.js'
import { sha256Tree } from '../interop/clients/sha256-tree.js'
import { torrentWithoutWebSeeds } from '../interop/clients/without-web-seeds.js'
import type { DownloadChildOptions } from './download-child.js'

const CHILD = new URL('./download-child.js', import.meta.url).pathname

interface ChildEvent {
  readonly event: string
  readonly verifiedPieces?: number
  readonly receivedBytes?: number
  readonly resumedPieces?: number
}

/** Runs download-child.js; `onEvent` may return true to SIGKILL it there. Resolves with its events and how it ended. */
async function runChild (options: DownloadChildOptions, onEvent: (event: ChildEvent) => boolean = () => false): Promise<{ events: ChildEvent[], signal: NodeJS.Signals | null }> {
  const child = spawnTracked(process.execPath, [CHILD, JSON.stringify(options)])
  const events: ChildEvent[] = []
  const exit = exitOf(child)
  try {
    for await (const line of createInterface({ input: child.stdout! })) {
      const event = JSON.parse(line) as ChildEvent
      events.push(event)
      if (onEvent(event)) child.kill('SIGKILL')
    }
    return { events, signal: (await exit).signal }
  } finally {
    await stopChild(child, 1000)
  }
}

/**
 * `<name>.bin` of `size` bytes published by a real serve, its `.torrent` without web seeds (so only
 * the everseed serves), and the options of a download of it from that everseed alone.
 */
async function servedFile (t: ExecutionContext, name: string, size: number): Promise<{ library: string, torrent: Buffer, options: DownloadChildOptions }> {
  const root = tempDir(t)
  const library = join(root, 'library')
  writeTree(library, { [`${name}.bin`]: size })
  const serve = await ServeProcess.start(t, { libraries: [library], stateDir: join(root, 'state') })
  const published = await serve.waitFor((line) => line.msg === 'published', 120_000)
  const torrentPath = join(root, `${name}.torrent`)
  const torrent = torrentWithoutWebSeeds(await readFile(published.torrent!))
  await writeFile(torrentPath, torrent)
  return {
    library,
    torrent,
    options: { infoHash: published.infohash!, torrentPath, peers: [{ host: '127.0.0.1', port: serve.peerPort }], folder: join(root, 'mirror'), resumePath: join(root, `${name}.resume`) }
  }
}

test('a download SIGKILLed halfway resumes from its state file: the pieces recorded are checked, not fetched again, and only the rest is received', async (t) => {
  t.timeout(5 * 60_000)
  const { library, torrent, options } = await servedFile(t, 'film', 24 * 1024 * 1024 + 12345)
  const metainfo = parseTorrent(torrent)
  // Slow on purpose (two blocks in flight, state written every 8 pieces), so that the kill lands midway.
  const first = await runChild({ ...options, limits: { maxRequestsPerPeer: 2, resumeEveryPieces: 8 } }, (event) => (event.verifiedPieces ?? 0) >= metainfo.pieceCount / 2)
  t.is(first.signal, 'SIGKILL', 'the first run was killed before it completed')
  t.false(first.events.some((event) => event.event === 'done'))

  const recorded = decodeResume(await readFile(options.resumePath), metainfo.infoHash as InfoHash, metainfo.pieceCount)
  t.truthy(recorded, 'the state file left by the killed run is whole')
  const recordedPieces = [...Array(metainfo.pieceCount).keys()].filter((piece) => (recorded![piece >> 3]! & (0x80 >> (piece & 7))) !== 0)
  t.true(recordedPieces.length >= metainfo.pieceCount / 4, `${recordedPieces.length} of ${metainfo.pieceCount} pieces recorded`)
  t.true(recordedPieces.length < metainfo.pieceCount)

  const second = await runChild(options)
  const done = second.events.find((event) => event.event === 'done')
  if (done === undefined) return t.fail(JSON.stringify(second.events.slice(-3)))
  t.is(done.resumedPieces, recordedPieces.length, 'every recorded piece was checked and kept')
  const recordedBytes = recordedPieces.reduce((sum, piece) => sum + Math.min(metainfo.pieceLength, metainfo.totalBytes - piece * metainfo.pieceLength), 0)
  const missing = metainfo.totalBytes - recordedBytes
  t.log(`pieces ${metainfo.pieceCount} of ${metainfo.pieceLength} bytes; recorded ${recordedPieces.length}; second run received ${done.receivedBytes} bytes for ${missing} missing`)
  t.true(done.receivedBytes! >= missing, 'every missing byte was received')
  // Endgame may ask for a few blocks twice; nothing recorded is fetched again.
  t.true(done.receivedBytes! <= missing + 64 * 16 * 1024, `received ${done.receivedBytes} bytes, ${missing} were missing`)
  t.deepEqual(await sha256Tree(options.folder), await sha256Tree(library))
})

test('a torn state file (cut short, as by a crash in the middle of a write) is never read back: the download starts from nothing and still completes right', async (t) => {
  t.timeout(3 * 60_000)
  const { library, options } = await servedFile(t, 'clip', 3 * 1024 * 1024 + 7)
  const first = await runChild(options)
  t.truthy(first.events.find((event) => event.event === 'done'))
  const size = (await readFile(options.resumePath)).length
  await truncate(options.resumePath, size - 1)
  const second = await runChild(options)
  const done = second.events.find((event) => event.event === 'done')
  t.is(done?.resumedPieces, 0, 'the torn state file counted for nothing')
  t.true(done!.receivedBytes! >= 3 * 1024 * 1024 + 7)
  t.deepEqual(await sha256Tree(options.folder), await sha256Tree(library))
})
