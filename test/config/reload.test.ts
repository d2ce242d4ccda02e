import { randomBytes } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import test from 'ava'
import { writeTree } from '../helpers/content.js'
import { ServeProcess } from '../helpers/serve-process.js'
import { tempDir } from '../helpers/temp-dir.js'
import { MESSAGE, RawPeer } from '../seeder/peers.js'

/** An HTTP announce for `infoHash` from a made-up peer; the bencoded answer as text. */
async function announce (trackerPort: number, infoHash: string): Promise<string> {
  const binary = [...Buffer.from(infoHash, 'hex')].map((byte) => `%${byte.toString(16).padStart(2, '0')}`).join('')
  const response = await fetch(`http://127.0.0.1:${trackerPort}/announce?info_hash=${binary}&peer_id=-XX0001-${'a'.repeat(12)}&port=6999&uploaded=0&downloaded=0&left=1&compact=1`)
  return Buffer.from(await response.arrayBuffer()).toString('latin1')
}

test('SIGHUP applies a changed config live (tracker mode) without dropping a peer; a bad config keeps the running one and says where it is wrong', async (t) => {
  const root = tempDir(t)
  const library = join(root, 'library')
  writeTree(library, { 'album/track.bin': 300_000 })
  const serve = await ServeProcess.start(t, { libraries: [library], stateDir: join(root, 'state') })
  const published = await serve.waitFor((line) => line.msg === 'published')
  const unknown = randomBytes(20).toString('hex')
  t.regex(await announce(serve.trackerPort, unknown), /failure reason/, 'published-only at first')

  const peer = await RawPeer.connect(serve.peerPort)
  t.teardown(() => peer.destroy())
  peer.sendHandshake(published.infohash!, { fast: true })
  await peer.waitFor((message) => message.id === MESSAGE.haveAll || message.id === MESSAGE.bitfield)

  serve.writeConfig({ 'tracker.mode': 'open', 'seeder.upload_slots': 2, 'hashing.threads': 1 })
  serve.child.kill('SIGHUP')
  const reloaded = await serve.waitFor((line) => line.msg === 'config reloaded')
  t.is(reloaded.applied, 'tracker.mode seeder.upload_slots')
  t.is((await serve.waitFor((line) => line.msg === 'config changes wait for a restart')).keys, 'hashing.threads')
  const open = await announce(serve.trackerPort, unknown)
  t.notRegex(open, /failure reason/)
  t.regex(open, /8:interval/)

  t.false(peer.isClosed, 'the peer connected before the reload is still connected')
  peer.sendMessage(MESSAGE.interested)
  await peer.waitFor((message) => message.id === MESSAGE.unchoke)

  writeFileSync(serve.configPath, '[tracker]\nmode = "closed"\n')
  serve.child.kill('SIGHUP')
  const refused = await serve.waitFor((line) => line.msg.startsWith('config not reloaded'))
  t.is(refused.level, 'error')
  t.is(refused.file, serve.configPath)
  t.is(refused.key, 'tracker.mode')
  t.regex(refused.error!, /"published-only", "open"/)
  t.notRegex(await announce(serve.trackerPort, randomBytes(20).toString('hex')), /failure reason/, 'still open')
  t.false(peer.isClosed)
  t.true(serve.running)
})
