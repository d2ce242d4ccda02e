/**
 * How close real downloaders come to the seeder's stall rules: N libtorrent downloads at once from
 * a seeder with its default options on loopback (but for the per-address bound, lifted: every
 * libtorrent comes from 127.0.0.1). Every 5 ms it samples, for every peer, how long its blocks
 * have waited in the socket with none written (the clock of `stallMs`), and how long an unchoked peer
 * has asked for nothing (the clock of an unused slot; counted once the peer asks again, so the quiet
 * after its last block does not count). Prints one JSON line; a measurement, not a test.
 *
 *   node dist/scripts/measure-stalls.js [MiB=256] [downloaders=1] [seeder options as JSON]
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Catalog } from '../appliance/catalog/catalog.js'
import { defaultSettings } from '../appliance/config/settings.js'
import type { PeerSession } from '../appliance/seeder/peer-session.js'
import { Seeder } from '../appliance/seeder/seeder.js'
import { seederOptionsFrom } from '../appliance/seeder/seeder-options.js'
import { sha256, writeTree } from '../test/helpers/content.js'
import { contentOf, publish, writeTorrentFile } from '../test/seeder/fixtures.js'
import { ltDownload } from '../test/seeder/lt-download.js'

/** The session state the sampler reads; private to the seeder, so read through a cast. */
interface Clocks {
  readonly unchoked: boolean
  readonly queue: readonly unknown[]
  readonly reads: number
  readonly blocksInSocket: number
  readonly lastBlockWrittenAt: number
  readonly lastRequestAt: number
  readonly lastUnchokedAt: number
}

const mib = Number(process.argv[2] ?? 256)
const downloaders = Number(process.argv[3] ?? 1)
const options = { maxConnectionsPerAddress: 1000, ...JSON.parse(process.argv[4] ?? '{}') as Record<string, unknown> }

const root = mkdtempSync(join(tmpdir(), 'measure-stalls-'))
writeTree(root, { 'item.bin': mib * 1024 * 1024 })
const torrent = await publish(join(root, 'item.bin'))
const catalog = new Catalog()
catalog.add(torrent)
const seeder = new Seeder({ ...seederOptionsFrom(defaultSettings()), port: 0, host: '127.0.0.1', lsd: false, catalog, ...options })
await seeder.start()
const disconnects: Record<string, number> = {}
seeder.on('peer-disconnected', ({ reason }) => { disconnects[reason] = (disconnects[reason] ?? 0) + 1 })

let maxStallMs = 0
let maxUnusedMs = 0
const quiet = new Map<Clocks, { since: number, ms: number }>()
const sessions = (seeder as unknown as { sessions: Map<PeerSession, string> }).sessions
const sampler = setInterval(() => {
  const now = performance.now()
  for (const session of sessions.keys()) {
    const clocks = session as unknown as Clocks
    if (clocks.blocksInSocket > 0) maxStallMs = Math.max(maxStallMs, now - clocks.lastBlockWrittenAt)
    const gap = quiet.get(clocks)
    if (gap !== undefined && clocks.lastRequestAt > gap.since) {
      maxUnusedMs = Math.max(maxUnusedMs, gap.ms)
      quiet.delete(clocks)
    }
    if (clocks.unchoked && clocks.queue.length === 0 && clocks.reads === 0 && clocks.blocksInSocket === 0) {
      const since = Math.max(clocks.lastUnchokedAt, clocks.lastRequestAt, clocks.lastBlockWrittenAt)
      quiet.set(clocks, { since, ms: now - since })
    }
  }
}, 5)

const torrentFile = writeTorrentFile(torrent, root)
const expected = sha256(contentOf(torrent))
const started = performance.now()
const results = await Promise.all(Array.from({ length: downloaders }, async () => {
  const target = mkdtempSync(join(tmpdir(), 'measure-stalls-'))
  try {
    const result = await ltDownload(torrentFile, target, [`127.0.0.1:${seeder.port}`], 600)
    return { ok: result.ok && sha256(readFileSync(join(target, 'item.bin'))) === expected, seconds: Math.round(result.seconds * 10) / 10 }
  } finally {
    rmSync(target, { recursive: true, force: true })
  }
}))
clearInterval(sampler)
await seeder.close()
rmSync(root, { recursive: true, force: true })
console.log(JSON.stringify({
  mib,
  downloaders,
  options,
  wallSeconds: Math.round((performance.now() - started) / 100) / 10,
  results,
  maxStallMs: Math.round(maxStallMs),
  maxUnusedSlotMs: Math.round(maxUnusedMs),
  disconnects
}))
