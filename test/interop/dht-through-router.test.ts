import test from 'ava'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { stopChild } from '../helpers/child-process.js'
import { pseudoRandomBytes, sha256 } from '../helpers/content.js'
import { SYSTEM_PYTHON } from '../helpers/libtorrent.js'
import { LineLog } from '../helpers/line-log.js'
import { NetnsTopology } from '../helpers/netns-topology.js'
import { sourcePath } from '../helpers/repo.js'
import { serveInLan } from '../helpers/serve-in-lan.js'
import { tempDir } from '../helpers/temp-dir.js'
import type { LtDhtDownloadResult } from '../dht/lt-dht-download.js'

// The box in the LAN behind the test's NAT router (nftables + miniupnpd, test/helpers/netns-topology.ts);
// on the internet side a DHT bootstrap node of the test's own and a libtorrent client bootstrapped
// to it alone. The client is given nothing but the infohash: it finds the everseed through the DHT,
// at the router's address, and downloads through the mapped peer port.

const DHT_NODE = fileURLToPath(new URL('../helpers/dht-node.js', import.meta.url))
const LT_DOWNLOAD = sourcePath('test/helpers/lt_download.py')

test.serial('a libtorrent client on the internet completes an xt-only magnet link through the DHT, reaching the box through the router', async (t) => {
  t.timeout(4 * 60_000)
  const net = await NetnsTopology.create(t)
  const node = net.spawn(net.internet, [process.execPath, DHT_NODE, net.client], { stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(async () => { await stopChild(node) })
  type NodeLine = { port?: number, announce?: { infoHash: string, host: string, port: number } }
  const nodeLog = new LineLog<NodeLine>(node.stdout!, (line) => JSON.parse(line) as NodeLine, () => 'the DHT node')
  const nodeLine = async (match: (line: NodeLine) => boolean, timeoutMs: number, what: string): Promise<NodeLine> => (await nodeLog.waitForCount(match, 1, timeoutMs, what))[0]!.value
  const { port: nodePort } = await nodeLine((line) => line.port !== undefined, 10_000, 'the DHT node to listen')
  const bootstrap = `${net.client}:${nodePort!}`

  const content = pseudoRandomBytes('dht-through-router', 2 * 1024 * 1024 + 77)
  const { serve, library } = await serveInLan(t, net, { 'dht.enabled': true, 'dht.bootstrap': [bootstrap] })
  const mapped = await serve.waitFor((line) => line.msg === 'ports mapped on the router', 15_000)
  t.true(mapped.mappings!.includes(`dht/udp:${serve.peerPort}->${serve.peerPort}`), `the DHT's UDP port is mapped too: ${mapped.mappings!}`)
  writeFileSync(join(library, 'found-by-dht.bin'), content)
  const { infohash } = await serve.waitFor((line) => line.msg === 'published', 30_000)
  const announce = await nodeLine((line) => line.announce?.infoHash === infohash, 60_000, 'the everseed\'s announce')
  t.is(announce.announce!.host, net.externalAddress, 'the bootstrap node saw the announce come from the router\'s address')

  const save = tempDir(t)
  const run = await net.exec(net.internet, [SYSTEM_PYTHON, LT_DOWNLOAD, `magnet:?xt=urn:btih:${infohash!}`, save, '--dht-bootstrap', bootstrap, '--listen', net.client, '--timeout', '120'], { timeoutMs: 150_000 })
  const result = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as LtDhtDownloadResult
  t.true(result.ok, run.stdout.slice(-2000))
  t.true(result.peers.includes(`${net.externalAddress}:${serve.peerPort}`), `found the everseed at the router's address: ${result.peers.join(' ')}`)
  t.is(sha256(readFileSync(join(save, 'found-by-dht.bin'))), sha256(content))
  t.is(await serve.stop(), 0)
})
