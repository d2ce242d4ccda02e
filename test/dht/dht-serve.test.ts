import { readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import test from 'ava'
import { pseudoRandomBytes, sha256, writeTree } from '../helpers/content.js'
import { ServeProcess, type LogLine } from '../helpers/serve-process.js'
import { tempDir } from '../helpers/temp-dir.js'
import { eventually, startTestNode } from './dht-nodes.js'
import { KrpcClient, peersOf } from './krpc-client.js'
import { ltDhtDownload } from './lt-dht-download.js'

// The everseed in the mainline DHT, against real processes on loopback addresses of their own:
// serve on 127.0.0.1, the test's DHT nodes on 127.0.0.3, libtorrent on 127.0.0.5.

const BOOTSTRAP_HOST = '127.0.0.3'
const CLIENT_HOST = '127.0.0.5'

const published = (line: LogLine): boolean => line.msg === 'published'
const bootstrapped = (line: LogLine): boolean => line.msg === 'DHT bootstrapped'

test('a magnet link with nothing but its infohash completes through the DHT alone', async (t) => {
  const root = tempDir(t)
  const content = pseudoRandomBytes('dht-magnet', 3 * 1024 * 1024 + 123)
  writeTree(join(root, 'library'), { 'only-by-dht.bin': content })
  const bootstrap = await startTestNode(t, BOOTSTRAP_HOST)
  const serve = await ServeProcess.start(t, {
    libraries: [join(root, 'library')],
    stateDir: join(root, 'state'),
    settings: { 'dht.enabled': true, 'dht.bootstrap': [bootstrap.address] }
  })
  const { infohash } = await serve.waitFor(published)
  await serve.waitFor(bootstrapped, 30_000)
  // The bootstrap node holds the everseed's announce (BEP 5 announce_peer) with its TCP port.
  await eventually(() => bootstrap.announces.some((a) => a.infoHash === infohash && a.port === serve.peerPort), 30_000, 'the announce at the bootstrap node')

  const magnet = `magnet:?xt=urn:btih:${infohash!}`
  const result = await ltDhtDownload(magnet, join(root, 'download'), { bootstrap: bootstrap.address, listen: CLIENT_HOST })
  t.true(result.ok, JSON.stringify(result))
  t.deepEqual(result.peers, [`127.0.0.1:${serve.peerPort}`])
  t.is(sha256(await readFile(join(root, 'download', 'only-by-dht.bin'))), sha256(content))
})

test('the everseed answers get_peers for its torrents with itself, and stops once one is withdrawn', async (t) => {
  const root = tempDir(t)
  writeTree(join(root, 'library'), { 'kept.bin': pseudoRandomBytes('kept', 40_000), 'withdrawn.bin': pseudoRandomBytes('withdrawn', 50_000) })
  const bootstrap = await startTestNode(t, BOOTSTRAP_HOST)
  const serve = await ServeProcess.start(t, {
    libraries: [join(root, 'library')],
    stateDir: join(root, 'state'),
    settings: { 'dht.enabled': true, 'dht.bootstrap': [bootstrap.address], 'library.rescan_interval': 1 }
  })
  const items = await serve.waitForCount(published, 2)
  const infoHashOf = (name: string): string => items.find((line) => line.name === name)!.infohash!
  const dhtPort = Number(serve.ready.dht_port)
  const client = await KrpcClient.open(t, CLIENT_HOST)
  const everseed = `127.0.0.1:${serve.peerPort}`
  for (const name of ['kept.bin', 'withdrawn.bin']) {
    const reply = await client.query(dhtPort, '127.0.0.1', 'get_peers', { info_hash: Buffer.from(infoHashOf(name), 'hex') })
    t.deepEqual(peersOf(reply), [everseed], name)
  }

  await rm(join(root, 'library', 'withdrawn.bin'))
  await serve.waitFor((line) => line.msg === 'unpublished')
  const withdrawn = await client.query(dhtPort, '127.0.0.1', 'get_peers', { info_hash: Buffer.from(infoHashOf('withdrawn.bin'), 'hex') })
  t.deepEqual(peersOf(withdrawn), [])
  t.truthy(withdrawn?.r?.nodes, 'answered with nodes instead')
  const kept = await client.query(dhtPort, '127.0.0.1', 'get_peers', { info_hash: Buffer.from(infoHashOf('kept.bin'), 'hex') })
  t.deepEqual(peersOf(kept), [everseed])
})
