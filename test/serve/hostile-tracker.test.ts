import test from 'ava'
import bencode from 'bencode'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { defaultSettings } from '../../appliance/config/settings.js'
import { writeTree } from '../helpers/content.js'
import { ServeProcess } from '../helpers/serve-process.js'
import { tempDir } from '../helpers/temp-dir.js'
import { httpGet } from '../web/http-client.js'
import { ATTACKER, MiB, udpAnnounceFlood } from './attacks.js'
import { memoryOf, resetPeak } from '../helpers/proc.js'

const ANNOUNCES = 300_000
/** Infohashes announced again and again, each by ever new peers: they fill tracker.max_peers. */
const POPULAR = 100
/**
 * The tracker's memory, from its bounds: a swarm with its first peer takes about 0.9 KB of heap, a
 * further peer about 0.25 KB (both measured with `--expose-gc` on bittorrent-tracker 11's swarms);
 * counted here at 2 KiB and 1.7 KB (the figure tracker.max_peers's doc gives) to stay on the safe side.
 */
const SWARM_BYTES = 2 * 1024
const PEER_BYTES = 1700
/**
 * Room for what is not the tracker's: V8's old space grows to about twice what is live before a full
 * collection, the young generation, and malloc's slack for 300,000 datagrams' buffers.
 */
const HEADROOM_BYTES = 48 * MiB
/** The unit's memory flags (config/evertorrent.service), so the heap limit is the appliance's. */
const UNIT_ENV = { NODE_OPTIONS: '--max-old-space-size=128 --max-semi-space-size=1', MALLOC_ARENA_MAX: '1' }

test(`open mode under ${ANNOUNCES.toLocaleString('en-US')} random announces stays within a memory bound set by its settings, and a full scrape afterwards works`, async (t) => {
  t.timeout(10 * 60_000)
  const root = tempDir(t)
  writeTree(join(root, 'library'), { 'published.bin': 100_000 })
  const serve = await ServeProcess.start(t, { libraries: [join(root, 'library')], stateDir: join(root, 'state'), settings: { 'tracker.mode': 'open' }, env: UNIT_ENV })
  const item = await serve.waitFor((line) => line.msg === 'published')
  const pid = serve.child.pid!
  const settings = defaultSettings()
  const maxSwarms = settings['tracker.max_swarms']
  const bound = maxSwarms * SWARM_BYTES + settings['tracker.max_peers'] * PEER_BYTES + HEADROOM_BYTES
  const before = memoryOf(pid)
  t.true(resetPeak(pid), 'VmHWM can be reset to the RSS of now (clear_refs)')

  const popular = Array.from({ length: POPULAR }, () => randomBytes(20))
  const flood = await udpAnnounceFlood('127.0.0.1', serve.trackerPort, ATTACKER, ANNOUNCES, (index) => index % 2 === 0
    ? { infoHash: randomBytes(20), port: 1024 + (index % 60_000) }
    : { infoHash: popular[index % POPULAR]!, port: 1024 + (Math.floor(index / POPULAR) % 60_000) },
  () => serve.running ? undefined : `serve exited (${serve.describe()})`)
  t.is(flood.answered, ANNOUNCES, JSON.stringify(flood))

  const after = memoryOf(pid)
  t.log(`flood: ${JSON.stringify(flood)}; serve RSS ${(before.rssBytes / MiB).toFixed(1)} MiB before, peak ${(after.peakBytes / MiB).toFixed(1)} MiB, bound +${(bound / MiB).toFixed(1)} MiB`)
  t.true(after.peakBytes - before.rssBytes <= bound, `peak RSS grew by ${((after.peakBytes - before.rssBytes) / MiB).toFixed(1)} MiB`)

  const scrape = await httpGet('127.0.0.1', serve.trackerPort, '/scrape')
  t.is(scrape.status, 200)
  const files = Object.keys(bencode.decode(scrape.body).files as Record<string, unknown>)
  t.log(`a full scrape lists ${files.length} torrents in ${scrape.body.length} bytes`)
  t.true(files.length <= maxSwarms + 1, `${files.length} torrents in a full scrape`)
  // The decoder reads dictionary keys as UTF-8, which binary infohashes are not: look for the bytes.
  t.true(scrape.body.includes(Buffer.from(`20:${Buffer.from(item.infohash!, 'hex').toString('latin1')}d`, 'latin1')), 'the published torrent is among them')
  t.is((await fetch(`http://127.0.0.1:${serve.httpPort}/api/status`)).status, 200)
  t.is(await serve.stop(), 0)
})
