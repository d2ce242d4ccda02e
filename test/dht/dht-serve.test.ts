import { createSocket } from 'node:dgram'
import { once } from 'node:events'
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import bencode from 'bencode'
import test from 'ava'
import { cliErrorMessage, runCli } from '../helpers/cli.js'
import { pseudoRandomBytes, sha256, writeTree } from '../helpers/content.js'
import { ServeProcess, type LogLine } from '../helpers/serve-process.js'
import { tempDir } from '../helpers/temp-dir.js'
import { eventually, startTestNode } from './dht-nodes.js'
import { KrpcClient, peersOf } from './krpc-client.js'
import { ltDhtDownload } from './lt-dht-download.js'
import { udpPortsOf } from './udp-ports.js'

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

/** Datagrams a hostile or broken node might send: not bencode, the wrong types where BEP 5 names each, and sizes far beyond any honest message. */
function hostileDatagrams (): Uint8Array[] {
  const id = Buffer.alloc(20, 1)
  const hash = Buffer.alloc(20, 2)
  const query = (q: unknown, a: unknown): Uint8Array => bencode.encode({ t: 'aa', y: 'q', q, a })
  const reply = (r: unknown, t: unknown = Buffer.from([0, 1])): Uint8Array => bencode.encode({ t, y: 'r', r })
  return [
    Buffer.from('not bencode at all'),
    Buffer.alloc(0),
    Buffer.from('d1:t'),
    Buffer.from('l'.repeat(20_000)),
    pseudoRandomBytes('hostile-udp', 60_000),
    Buffer.concat([Buffer.from('d1:t2:aa1:y1:q1:q4:ping1:ad2:id20:'), id, Buffer.from('e'), Buffer.alloc(50_000, 0x20), Buffer.from('e')]),
    bencode.encode({ t: 5, y: 'q', q: 'ping', a: { id } }),
    bencode.encode({ t: 'aa', y: ['q'], q: 'ping', a: { id } }),
    bencode.encode([1, 2, 3]),
    bencode.encode(42),
    query('ping', 'a string'),
    query('ping', { id: 12345 }),
    query(7, { id }),
    query('find_node', { id, target: 99 }),
    query('find_node', { id, target: Buffer.alloc(3) }),
    query('get_peers', { id, info_hash: 1234 }),
    query('get_peers', { id, info_hash: [hash] }),
    query('get_peers', { id, info_hash: { x: 1 } }),
    query('announce_peer', { id, info_hash: hash, port: 6881, token: 77 }),
    query('announce_peer', { id, info_hash: 1, port: 6881, token: Buffer.alloc(20) }),
    query('announce_peer', { id, info_hash: hash, port: 'x', token: Buffer.alloc(20) }),
    query('get', { id, target: 5 }),
    query('put', { id, token: Buffer.alloc(20), v: 1, sig: Buffer.alloc(64) }),
    query('put', { id, token: 3, v: 'x', k: 9, salt: 2 }),
    reply({ id: 5 }),
    reply({ id, nodes: 'short' }),
    reply({ id, values: [1, 2] }),
    reply({ id, values: 'abcdef' }),
    reply({ id, token: 17 }),
    reply('not a dict'),
    reply({ id }, 'x'),
    bencode.encode({ t: Buffer.from([0, 1]), y: 'e', e: 'not a list' }),
    bencode.encode({ t: Buffer.from([0, 1]), y: 'e', e: [{ a: 1 }, 2] }),
    bencode.encode({ t: 'aa', y: 'z' })
  ]
}

test('hostile datagrams to the DHT port: serve stays up, logs them once, and keeps answering', async (t) => {
  const root = tempDir(t)
  writeTree(join(root, 'library'), { 'item.bin': pseudoRandomBytes('hostile-dht', 30_000) })
  const bootstrap = await startTestNode(t, BOOTSTRAP_HOST)
  const serve = await ServeProcess.start(t, {
    libraries: [join(root, 'library')],
    stateDir: join(root, 'state'),
    settings: { 'dht.enabled': true, 'dht.bootstrap': [bootstrap.address] }
  })
  const { infohash } = await serve.waitFor(published)
  const dhtPort = Number(serve.ready.dht_port)
  const client = await KrpcClient.open(t, CLIENT_HOST)
  const datagrams = hostileDatagrams()
  for (let round = 0; round < 20; round++) {
    for (const datagram of datagrams) await client.sendRaw(datagram, dhtPort, '127.0.0.1')
  }

  // UDP may drop a datagram while the flood still fills the socket's buffer: a few tries.
  let pong: Record<string, any> | undefined
  for (let attempt = 0; attempt < 5 && pong === undefined; attempt++) pong = await client.query(dhtPort, '127.0.0.1', 'ping')
  t.true(serve.running, serve.describe())
  t.is(pong?.r?.id?.length, 20, 'answers a ping')
  const peers = await client.query(dhtPort, '127.0.0.1', 'get_peers', { info_hash: Buffer.from(infohash!, 'hex') })
  t.deepEqual(peersOf(peers), [`127.0.0.1:${serve.peerPort}`])
  const dropped = serve.lines.filter((line) => line.code === 'ET_DHT_DROPPED')
  t.true(dropped.length >= 1 && dropped.length <= 2, `one line for the first, one per thousand: ${dropped.length}`)
  t.regex(dropped[0]!.msg, /DHT datagrams dropped: 1 so far, the last from 127\.0\.0\.5:\d+/)
})

test('dht.enabled = false: no DHT socket and not a word of it in the log; on, the DHT port is the peer port\'s number', async (t) => {
  const root = tempDir(t)
  writeTree(join(root, 'library'), { 'item.bin': pseudoRandomBytes('dht-off', 10_000) })
  const off = await ServeProcess.start(t, { libraries: [join(root, 'library')], stateDir: join(root, 'state-off'), settings: { 'dht.enabled': false } })
  await off.waitFor(published)
  t.deepEqual(await udpPortsOf(off.pid), [off.trackerPort], 'the tracker\'s UDP socket only')
  t.deepEqual(off.lines.filter((line) => /dht/i.test(line.msg) || /^ET_DHT/.test(line.code ?? '') || Object.keys(line).some((key) => key.startsWith('dht'))), [])
  await off.stop()
  await stat(join(root, 'state-off', 'dht.json')).then(() => t.fail('dht.json written'), () => t.pass())

  const bootstrap = await startTestNode(t, BOOTSTRAP_HOST)
  const on = await ServeProcess.start(t, { libraries: [join(root, 'library')], stateDir: join(root, 'state-on'), settings: { 'dht.enabled': true, 'dht.bootstrap': [bootstrap.address] } })
  await on.waitFor(bootstrapped)
  t.is(Number(on.ready.dht_port), on.peerPort)
  t.deepEqual(await udpPortsOf(on.pid), [on.trackerPort, on.peerPort].sort((a, b) => a - b))
})

test('a DHT port in use stops serve at start with one line naming dht.port, exit 1', async (t) => {
  const root = tempDir(t)
  const taken = createSocket('udp4')
  taken.bind(0, '127.0.0.1')
  await once(taken, 'listening')
  t.teardown(() => { taken.close() })
  const port = taken.address().port
  const config = join(root, 'config.toml')
  await writeFile(config, `[dht]\nport = ${port}\nbootstrap = []\n[network]\nlisten_host = "127.0.0.1"\n[seeder]\nlocal_discovery = false\n`)
  const result = await runCli(['serve', '--config', config, '--library', join(root, 'library'), '--state-dir', join(root, 'state'), '--http-port', '0', '--tracker-port', '0', '--peer-port', '0'])
  t.regex(cliErrorMessage(result, 1), new RegExp(`^dht\\.port: UDP port ${port} on 127\\.0\\.0\\.1 is in use by another program; set dht\\.port to a free port`))
})

test('a restart keeps the node id and rejoins from the saved routing table, with the bootstrap node gone', async (t) => {
  const root = tempDir(t)
  writeTree(join(root, 'library'), { 'item.bin': pseudoRandomBytes('dht-restart', 20_000) })
  const bootstrap = await startTestNode(t, BOOTSTRAP_HOST)
  const others = [await startTestNode(t, '127.0.0.4', [bootstrap.address]), await startTestNode(t, '127.0.0.4', [bootstrap.address]), await startTestNode(t, '127.0.0.4', [bootstrap.address])]
  const options = { libraries: [join(root, 'library')], stateDir: join(root, 'state'), settings: { 'dht.enabled': true, 'dht.bootstrap': [bootstrap.address] } }
  const first = await ServeProcess.start(t, options)
  const { infohash } = await first.waitFor(published)
  const { node_id: nodeId } = await first.waitFor(bootstrapped)
  await eventually(() => others.some((node) => node.announces.some((a) => a.infoHash === infohash)), 30_000, 'an announce at a node other than the bootstrap node')
  t.is(await first.stop(), 0)
  const saved = JSON.parse(await readFile(join(root, 'state', 'dht.json'), 'utf8')) as { nodeId: string, nodes: Array<{ host: string, port: number }> }
  t.is(saved.nodeId, nodeId)
  t.true(saved.nodes.some((node) => node.host === '127.0.0.4'), JSON.stringify(saved.nodes))

  await bootstrap.close()
  for (const node of others) node.announces.length = 0
  const second = await ServeProcess.start(t, options)
  const rejoined = await second.waitFor(bootstrapped, 10_000)
  t.is(rejoined.node_id, nodeId)
  t.true(Number(rejoined.nodes) > 0)
  // Not merely read back: the saved nodes are alive, and the new announce reaches them.
  await eventually(() => others.some((node) => node.announces.some((a) => a.infoHash === infohash && a.port === second.peerPort)), 30_000, 'an announce after the restart, without the bootstrap node')
  t.pass()
})

test('a damaged or hostile dht.json is refused with one line, never a crash; the DHT starts afresh and saves a good one', async (t) => {
  const bootstrap = await startTestNode(t, BOOTSTRAP_HOST)
  const cases: ReadonlyArray<[string, string | Buffer, RegExp]> = [
    ['not JSON', '{"version": 1, "nodeId": ', /not JSON/],
    ['a bad node id', JSON.stringify({ version: 1, nodeId: 'zz', nodes: [] }), /nodeId is not 40 hex digits/],
    ['a hostile node', JSON.stringify({ version: 1, nodeId: 'a'.repeat(40), nodes: [{ id: 'b'.repeat(40), host: '127.0.0.4', port: 1 }, { id: 'c'.repeat(40), host: 'evil.example', port: 99999 }] }), /node 2 is not/],
    ['a huge file', Buffer.alloc(300 * 1024, 0x20), /larger than 262144 bytes/]
  ]
  for (const [what, text, reason] of cases) {
    const root = tempDir(t)
    writeTree(join(root, 'library'), { 'item.bin': pseudoRandomBytes('dht-state', 5000) })
    await mkdir(join(root, 'state'), { recursive: true })
    await writeFile(join(root, 'state', 'dht.json'), text)
    const serve = await ServeProcess.start(t, { libraries: [join(root, 'library')], stateDir: join(root, 'state'), settings: { 'dht.enabled': true, 'dht.bootstrap': [bootstrap.address] } })
    await serve.waitFor(bootstrapped)
    const refused = serve.lines.filter((line) => line.code === 'ET_DHT_STATE')
    t.is(refused.length, 1, what)
    t.regex(refused[0]!.msg, reason, what)
    t.is(await serve.stop(), 0, what)
    const saved = JSON.parse(await readFile(join(root, 'state', 'dht.json'), 'utf8')) as { version: number, nodeId: string }
    t.is(saved.version, 1, what)
    t.regex(saved.nodeId, /^[0-9a-f]{40}$/, what)
  }
})
