import test from 'ava'
import { createHash } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { SYSTEM_PYTHON } from '../helpers/libtorrent.js'
import { NetnsTopology } from '../helpers/netns-topology.js'
import { sourcePath } from '../helpers/repo.js'
import { serveInLan } from '../helpers/serve-in-lan.js'
import { tempDir } from '../helpers/temp-dir.js'
import type { LtDownloadResult } from '../seeder/lt-download.js'

// The box in the LAN behind a real NAT router (nftables + miniupnpd, see test/helpers/netns-topology.ts),
// a libtorrent client on the internet side: it can reach the box only through the router's external
// address, so it completes only if the torrent names the public host and the tracker hands it the
// everseed at the router's address and mapped port (the LAN address is unroutable from there).

const LT_DOWNLOAD = sourcePath('test/helpers/lt_download.py')
const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex')

test.serial('a client on the internet downloads by the public host\'s announce URL, through the router, from the everseed', async (t) => {
  t.timeout(3 * 60_000)
  const net = await NetnsTopology.create(t)
  const home = tempDir(t)
  // public_host stays at its default, auto: the router's external address once ports are mapped.
  const { serve, library } = await serveInLan(t, net, {}, ['--announce-host', net.box])
  const content = Buffer.alloc(3 * 1024 * 1024)
  for (let i = 0; i < content.length; i += 4096) content.writeUInt32BE(i, i)
  writeFileSync(join(library, 'far.bin'), content)
  const published = await serve.waitFor((line) => line.msg === 'published', 30_000)
  const address = await serve.waitFor((line) => line.msg === 'public address', 20_000)
  t.is(address.host, net.externalAddress)
  const { trackerPort, httpPort } = serve
  t.is(address.announce, `http://${net.box}:${trackerPort}/announce udp://${net.box}:${trackerPort} http://${net.externalAddress}:${trackerPort}/announce udp://${net.externalAddress}:${trackerPort}`)

  const torrentPath = join(home, 'far.torrent')
  const fetched = await net.exec(net.lan, [SYSTEM_PYTHON, '-c', `import sys,urllib.request; sys.stdout.buffer.write(urllib.request.urlopen('http://${net.box}:${httpPort}/torrents/${published.infohash!}.torrent').read().hex().encode())`])
  writeFileSync(torrentPath, Buffer.from(fetched.stdout, 'hex'))
  const publicTracker = `http://${net.externalAddress}:${trackerPort}/announce`
  t.true(readFileSync(torrentPath).includes(publicTracker), 'the .torrent, published before the router answered, now names the public tracker')
  for (let tries = 0; !readFileSync(published.torrent!).includes(publicTracker) && tries < 50; tries++) await sleep(100)
  t.true(readFileSync(published.torrent!).includes(publicTracker), 'and so does its copy in the state directory')

  const save = tempDir(t)
  const run = await net.exec(net.internet, [SYSTEM_PYTHON, LT_DOWNLOAD, torrentPath, save, '--listen', net.client, '--no-web-seeds', '--timeout', '90'], { timeoutMs: 120_000 })
  const done = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as LtDownloadResult
  t.true(done.ok, run.stdout)
  t.is(sha256(readFileSync(join(save, 'far.bin'))), sha256(content))
  // The everseed also dials leechers (through the NAT, from another port): the client connecting to
  // the mapped peer port at the router's address is what the tracker handed out.
  t.true(done.peers.includes(`${net.externalAddress}:${serve.peerPort}`), `the client dialled the everseed at the router's address and mapped port: ${done.peers.join(' ')}`)
  t.is(await serve.stop(), 0)
})
