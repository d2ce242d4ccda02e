import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import test from 'ava'
import { encodeTorrent, parseTorrent } from '../../appliance/metainfo/metainfo.js'
import { sha256, writeTree } from '../helpers/content.js'
import { ServeProcess } from '../helpers/serve-process.js'
import { tempDir } from '../helpers/temp-dir.js'
import { HostileCrowd } from '../seeder/hostile-peers.js'
import { ltDownload } from '../seeder/lt-download.js'
import { RawPeer } from '../seeder/peers.js'

const published = (line: { msg: string }): boolean => line.msg === 'published'


test('serve: libtorrent downloads from the everseed alone while 60 idle and 40 non-reading connections come from one address', async (t) => {
  const root = tempDir(t)
  const library = join(root, 'library')
  const written = writeTree(library, { 'film.bin': 16 * 1024 * 1024 })
  const serve = await ServeProcess.start(t, { libraries: [library], stateDir: join(root, 'state') })
  const line = await serve.waitFor(published)
  const metainfo = parseTorrent(readFileSync(line.torrent!))
  // The everseed must be libtorrent's only source: no web seed (BEP 19), no tracker.
  const peerOnly = join(root, 'peer-only.torrent')
  writeFileSync(peerOnly, encodeTorrent({ ...metainfo, urlList: [], announceList: [] }))

  const crowd = new HostileCrowd(t, serve.peerPort)
  // Each opened again when serve closes it, as an attacker would.
  for (let i = 0; i < 100; i++) {
    if (i % 5 < 3) await crowd.idle(metainfo.infoHash, '127.0.0.2', true)
    else await crowd.nonReading(metainfo, '127.0.0.2', true)
  }
  const target = join(root, 'downloads')
  const result = await ltDownload(peerOnly, target, [`127.0.0.1:${serve.peerPort}`], 90)
  t.true(result.ok, JSON.stringify(result))
  t.is(sha256(readFileSync(join(target, 'film.bin'))), sha256(written.get('film.bin')!))
})

test('serve: the handshake time and the connections per address come from the settings', async (t) => {
  const root = tempDir(t)
  const library = join(root, 'library')
  writeTree(library, { 'one.bin': 100_000 })
  const serve = await ServeProcess.start(t, {
    libraries: [library],
    stateDir: join(root, 'state'),
    settings: { 'seeder.handshake_seconds': 5, 'seeder.max_connections_per_address': 2 }
  })
  await serve.waitFor(published)
  const peers: RawPeer[] = []
  t.teardown(() => { for (const peer of peers) peer.destroy() })
  for (let i = 0; i < 3; i++) peers.push(await RawPeer.connect(serve.peerPort, '127.0.0.2'))
  t.true(await peers[2]!.closedWithin(2_000), 'the third from one address is closed at once')
  t.false(peers[0]!.isClosed || peers[1]!.isClosed)
  for (let i = 0; i < 20; i++) peers.push(await RawPeer.connect(serve.peerPort, '127.0.0.2'))
  await serve.waitFor((line) => line.msg === 'peer connections refused')
  const refusedLines = serve.lines.filter((line) => line.msg === 'peer connections refused')
  t.is(refusedLines.length, 1, 'a flood of refusals is one log line (then one a minute)')
  t.like(refusedLines[0], { reason: 'address-limit', refused: '1' })
  // Well before the default 10 s.
  t.true((await Promise.all(peers.slice(0, 2).map(async (peer) => await peer.closedWithin(7_000)))).every(Boolean), 'the others, silent, after 5 s')
})
