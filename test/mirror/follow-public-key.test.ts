import test from 'ava'
import { join } from 'node:path'
import { writeTree } from '../helpers/content.js'
import { ServeProcess, type LogLine } from '../helpers/serve-process.js'
import { tempDir } from '../helpers/temp-dir.js'
import { sha256Tree } from '../interop/clients/sha256-tree.js'
import { eventually, startTestNode } from '../dht/dht-nodes.js'
import { ltDhtDownload } from '../dht/lt-dht-download.js'

// Box A (real serve process, DHT on) on 127.0.0.1, box B on 127.0.0.2 (libtorrent keeps one DHT node
// per IP address in a lookup: two boxes on one address would stand for one), the test's bootstrap node
// on 127.0.0.3 (it takes BEP 44 items), the libtorrent client on 127.0.0.5.
const B_HOST = '127.0.0.2'
const BOOTSTRAP_HOST = '127.0.0.3'
const CLIENT_HOST = '127.0.0.5'

const complete = (line: LogLine): boolean => line.msg === 'mirror item complete'

test('by public key over a local DHT: B finds A\'s catalog (BEP 46), mirrors and everseeds its three items and a fourth published later, without a restart; with A gone, libtorrent completes the original magnet links from B through the DHT', async (t) => {
  const root = tempDir(t)
  const bootstrap = await startTestNode(t, BOOTSTRAP_HOST)
  const dht = { 'dht.enabled': true, 'dht.bootstrap': [bootstrap.address] }
  const library = join(root, 'a', 'library')
  writeTree(library, { 'alpha/one.bin': 400_001, 'alpha/two.txt': 5_000, 'beta.bin': 900_000, 'gamma.txt': 77_777 })
  const a = await ServeProcess.start(t, { libraries: [library], stateDir: join(root, 'a', 'state'), settings: dht })
  const published = await a.waitForCount((line) => line.msg === 'published', 3, 120_000)
  await a.waitFor((line) => line.msg === 'catalog pointer put in the DHT', 60_000)
  const publicKey = a.ready.public_key!

  const folder = join(root, 'b', 'mirror')
  const b = await ServeProcess.start(t, { libraries: [], stateDir: join(root, 'b', 'state'), extraArgs: ['--announce-host', B_HOST], settings: { ...dht, 'network.listen_host': B_HOST, mirror: [{ public_key: publicKey, folder, poll_seconds: 10 }] } })
  const done = await b.waitForCount(complete, 3, 180_000)
  t.deepEqual(done.map((line) => line.infohash).sort(), published.map((line) => line.infohash).sort())

  // A publishes a fourth item: a new catalog under a higher seq, which B's next poll finds.
  writeTree(library, { 'delta.bin': 250_000 })
  published.push(await a.waitFor((line) => line.msg === 'published' && line.name === 'delta.bin', 120_000))
  const four = await b.waitForCount(complete, 4, 180_000)
  t.is(four[3]!.infohash, published[3]!.infohash)
  const status = await (await fetch(`http://${B_HOST}:${b.httpPort}/api/status`)).json() as { mirrors: Array<{ origin: string, items: number }> }
  t.is(status.mirrors[0]!.origin, publicKey)
  t.is(status.mirrors[0]!.items, 4)
  // B announces itself in the DHT for what it mirrors.
  for (const line of published) {
    await eventually(() => bootstrap.announces.some((announce) => announce.infoHash === line.infohash && announce.port === b.peerPort), 60_000, `B's announce of ${line.name!}`)
  }
  await a.stop()

  for (const line of published) {
    // A's magnet link without its trackers (A is gone, and lt_download.py's DHT mode takes none): the infohash and name.
    const magnet = line.magnet!.split('&').filter((part) => !part.startsWith('tr=')).join('&')
    const result = await ltDhtDownload(magnet, join(root, 'lt'), { bootstrap: bootstrap.address, listen: CLIENT_HOST, timeoutSeconds: 120 })
    if (!result.ok) t.log(b.lines.map((line) => JSON.stringify(line)).join('\n'))
    t.true(result.ok, JSON.stringify(result))
    // A's stale announce may be listed too; A is stopped, so every byte came from B.
    t.true(result.peers.includes(`${B_HOST}:${b.peerPort}`), JSON.stringify(result.peers))
  }
  t.deepEqual(await sha256Tree(join(root, 'lt')), await sha256Tree(library))
})

test('following by public key with the DHT off: a clear error in the status, nothing downloaded', async (t) => {
  const root = tempDir(t)
  const b = await ServeProcess.start(t, { libraries: [], stateDir: join(root, 'b', 'state'), settings: { mirror: [{ public_key: 'ab'.repeat(32), folder: join(root, 'b', 'mirror'), poll_seconds: 10 }] } })
  const failed = await b.waitFor((line) => line.msg === 'mirror poll failed; trying again at the next poll', 30_000)
  t.is(failed.code, 'ET_MIRROR_NO_DHT')
  const status = await (await fetch(`http://127.0.0.1:${b.httpPort}/api/status`)).json() as { mirrors: Array<{ lastError?: { code: string, message: string } }> }
  t.is(status.mirrors[0]!.lastError?.code, 'ET_MIRROR_NO_DHT')
  t.regex(status.mirrors[0]!.lastError!.message, /needs the DHT: set dht\.enabled = true/)
})
