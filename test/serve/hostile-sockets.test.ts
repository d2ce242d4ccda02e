import test from 'ava'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { defaultSettings } from '../../appliance/config/settings.js'
import { sha256, writeTree } from '../helpers/content.js'
import { ServeProcess } from '../helpers/serve-process.js'
import { tempDir } from '../helpers/temp-dir.js'
import { ltDownload } from '../seeder/lt-download.js'
import { httpAnnounce } from '../tracker/tracker-client.js'
import { ATTACKER, holdSockets, MiB } from './attacks.js'
import { descriptorCount } from '../helpers/proc.js'

const published = (line: { msg: string }): boolean => line.msg === 'published'
/** A request that gets no answer this long fails the test (the old code never answered at all). */
const ANSWER_WITHIN_MS = 30_000

interface StatusDoc {
  readonly items: ReadonlyArray<{ readonly name: string, readonly state: string }>
}

test('20,000 idle HTTP and WebSocket connections from one address: the status page, a web seed, the tracker and a peer download still work, and nothing goes offline', async (t) => {
  t.timeout(6 * 60_000)
  const root = tempDir(t)
  const library = join(root, 'library')
  const written = writeTree(library, { 'film.bin': 6 * MiB, 'album/side-a.bin': 2 * MiB, 'album/notes.txt': 'liner notes\n' })
  // A rescan every second: under the old code the scan met EMFILE and took every item offline.
  const serve = await ServeProcess.start(t, { libraries: [library], stateDir: join(root, 'state'), settings: { 'library.rescan_interval': 1 } })
  const items = await serve.waitForCount(published, 2)
  const film = items.find((line) => line.name === 'film.bin')!
  const pid = serve.child.pid!
  const idleDescriptors = await descriptorCount(pid)

  // Two holders (one process cannot hold 20,000 descriptors under this machine's limit of 20,000).
  const holders = await Promise.all([
    holdSockets(t, { host: '127.0.0.1', port: serve.httpPort, localAddress: ATTACKER, count: 10_000, kind: 'http' }),
    holdSockets(t, { host: '127.0.0.1', port: serve.trackerPort, localAddress: ATTACKER, count: 10_000, kind: 'ws' })
  ])
  t.log('holders (HTTP port, WebSocket on the tracker port):', JSON.stringify(holders))
  t.is(holders[0].connected + holders[1].connected, 20_000, 'every connection was made (and is held by the attacker)')
  const descriptors = await descriptorCount(pid)
  t.log(`serve holds ${descriptors} descriptors during the attack, ${idleDescriptors} before it`)
  // http.max_connections_per_address (32) of them at most, and a few being closed as this is read.
  t.true(descriptors <= idleDescriptors + defaultSettings()['http.max_connections_per_address'] + 16, 'serve keeps few of the attacker\'s connections')

  const base = `http://127.0.0.1:${serve.httpPort}`
  const status = await fetch(`${base}/api/status`, { signal: AbortSignal.timeout(ANSWER_WITHIN_MS) })
  t.is(status.status, 200)
  const doc = await status.json() as StatusDoc
  t.deepEqual(doc.items.map((item) => [item.name, item.state]).sort(), [['album', 'seeding'], ['film.bin', 'seeding']])

  const download = await fetch(`${base}/webseed/${film.infohash!}/film.bin`, { signal: AbortSignal.timeout(ANSWER_WITHIN_MS) })
  t.is(download.status, 200)
  t.is(sha256(new Uint8Array(await download.arrayBuffer())), sha256(written.get('film.bin')!), 'the web seed serves the published bytes')

  const announce = await httpAnnounce('127.0.0.1', serve.trackerPort, { infoHash: Buffer.from(film.infohash!, 'hex'), port: 51413 })
  t.true(announce.peers.includes(`127.0.0.1:${serve.peerPort}`), `the tracker hands out the everseed: ${JSON.stringify(announce)}`)

  // Peer wire only: a magnet without trackers or web seeds, libtorrent without DHT or LSD.
  const saveDir = join(root, 'peer-download')
  const result = await ltDownload(`magnet:?xt=urn:btih:${film.infohash!}`, saveDir, [`127.0.0.1:${serve.peerPort}`], 120)
  t.true(result.ok, JSON.stringify(result))
  t.is(sha256(await readFile(join(saveDir, 'film.bin'))), sha256(written.get('film.bin')!))

  const after = await (await fetch(`${base}/api/status`, { signal: AbortSignal.timeout(ANSWER_WITHIN_MS) })).json() as StatusDoc
  t.deepEqual(after.items.map((item) => item.state), ['seeding', 'seeding'])
  t.deepEqual(serve.lines.filter((line) => line.msg === 'unpublished' || line.msg === 'cannot publish' || line.level === 'error'), [])
  t.truthy(serve.lines.find((line) => line.msg === 'HTTP connections refused'), 'the refusals are logged')
  t.true(serve.lines.filter((line) => line.msg === 'HTTP connections refused').length < 10, 'in a few lines, not one per connection')
  t.is(await serve.stop(), 0)
})
