import test, { type ExecutionContext } from 'ava'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { StatusDocument } from '../../appliance/web/status-document.js'
import { writeTree } from '../helpers/content.js'
import { ServeProcess, type LogLine, type ServeOptions } from '../helpers/serve-process.js'
import { tempDir } from '../helpers/temp-dir.js'
import { RawPeer } from '../seeder/peers.js'

const TOKEN = 'pause-test-token'
const published = (name: string) => (line: LogLine): boolean => line.msg === 'published' && line.name === name

/** A library with a folder item and a single-file item; serve with actions on and no periodic rescan. */
function twoItems (t: ExecutionContext): { library: string, options: ServeOptions } {
  const root = tempDir(t)
  writeTree(join(root, 'library'), { 'album/side-a.bin': 600_000, 'album/side-b.bin': 300_000, 'single.bin': 100_000 })
  const options = { libraries: [join(root, 'library')], stateDir: join(root, 'state'), settings: { 'web.admin_token': TOKEN, 'library.rescan_interval': 3600 } }
  return { library: join(root, 'library'), options }
}

async function act (serve: ServeProcess, action: string, body: unknown): Promise<{ status: number, body: unknown }> {
  const response = await fetch(`http://127.0.0.1:${serve.httpPort}/api/actions/${action}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${TOKEN}` },
    body: typeof body === 'string' ? body : JSON.stringify(body)
  })
  return { status: response.status, body: await response.json() }
}

async function statusOf (serve: ServeProcess): Promise<StatusDocument> {
  return await (await fetch(`http://127.0.0.1:${serve.httpPort}/api/status`)).json() as StatusDocument
}

/** What announcing `infoHash` to the HTTP tracker answers, as text. */
async function announce (serve: ServeProcess, infoHash: string): Promise<string> {
  const hash = [...Buffer.from(infoHash, 'hex')].map((byte) => `%${byte.toString(16).padStart(2, '0')}`).join('')
  const response = await fetch(`http://127.0.0.1:${serve.trackerPort}/announce?info_hash=${hash}&peer_id=-XX0001-aaaaaaaaaaaa&port=6999&uploaded=0&downloaded=0&left=1&compact=1`)
  return Buffer.from(await response.arrayBuffer()).toString('latin1')
}

/** True when the everseed answers a handshake for `infoHash` with its own. */
async function seederAnswers (serve: ServeProcess, infoHash: string): Promise<boolean> {
  const peer = await RawPeer.connect(serve.peerPort)
  try {
    peer.sendHandshake(infoHash)
    // A published torrent's handshake is followed by its bitfield; an unknown one's by the end of the connection.
    await peer.waitFor(() => true, 10_000).catch(() => {})
    return peer.handshake !== undefined
  } finally {
    peer.destroy()
  }
}

test('pause withdraws an item from the tracker, the seeder and the web seed; resume publishes it again, same infohash, not hashed', async (t) => {
  const { library, options } = twoItems(t)
  const serve = await ServeProcess.start(t, options)
  const album = await serve.waitFor(published('album'))
  await serve.waitFor(published('single.bin'))
  const base = `http://127.0.0.1:${serve.httpPort}`
  const webSeed = `${base}/webseed/${album.infohash!}/album/side-a.bin`
  // Everything answers before the pause, so what follows can fail.
  t.is((await fetch(webSeed)).status, 200)
  t.notRegex(await announce(serve, album.infohash!), /failure reason/)
  const connected = await RawPeer.connect(serve.peerPort)
  t.teardown(() => { connected.destroy() })
  connected.sendHandshake(album.infohash!)
  await connected.waitFor(() => true)

  t.deepEqual(await act(serve, 'pause', { item: 'library/album' }), { status: 200, body: { action: 'pause', done: true } })
  t.true(await connected.closedWithin(10_000), 'the seeder ended the swarm: a peer connected before is let go')
  t.false(await seederAnswers(serve, album.infohash!), 'a new peer is refused')
  t.is((await fetch(webSeed)).status, 404)
  t.is((await fetch(`${base}/torrents/${album.infohash!}.torrent`)).status, 404)
  t.regex(await announce(serve, album.infohash!), /failure reason/)
  t.is(await (await fetch(`${base}/webseed/${(await serve.waitFor(published('single.bin'))).infohash!}/single.bin`)).status, 200, 'the other item is still served')
  await serve.waitFor((line) => line.msg === 'paused' && line.path === join(library, 'album'), 10_000)
  t.like((await statusOf(serve)).items.find((item) => item.id === 'library/album'), { state: 'paused', infoHash: album.infohash, links: undefined })
  t.regex(await (await fetch(`${base}/metrics`)).text(), /^evertorrent_items\{state="paused"\} 1$/m)

  // Named by its id in /api/status, like the page does; anything else is refused.
  t.is((await act(serve, 'pause', { item: 'library/none' })).status, 404)
  t.is((await act(serve, 'pause', '[1, 2]')).status, 400)

  const before = serve.lines.length
  t.deepEqual(await act(serve, 'resume', { item: 'library/album' }), { status: 200, body: { action: 'resume', done: true } })
  const again = await serve.waitFor((line) => published('album')(line) && serve.lines.indexOf(line) >= before, 30_000)
  t.is(again.infohash, album.infohash)
  t.is(again.resumed, 'true')
  t.is(serve.lines.filter((line) => line.msg === 'hashing' && line.path === join(library, 'album')).length, 1, 'hashed once, before the pause, and not again')
  t.is((await fetch(webSeed)).status, 200)
  t.true(await seederAnswers(serve, album.infohash!))
})

test('a paused item stays paused across a restart, from its first moment; a damaged paused file pauses nothing, with one warning', async (t) => {
  const { library, options } = twoItems(t)
  const first = await ServeProcess.start(t, options)
  const album = await first.waitFor(published('album'))
  t.is((await act(first, 'pause', { item: 'library/album' })).status, 200)
  t.is(await first.stop(), 0)

  const second = await ServeProcess.start(t, options)
  await second.waitFor(published('single.bin'))
  const about = second.lines.filter((line) => line.path === join(library, 'album') || line.name === 'album')
  t.deepEqual(about.map((line) => line.msg), ['paused'], 'paused from the start: never hashed, never published')
  t.like((await statusOf(second)).items.find((item) => item.id === 'library/album'), { state: 'paused', links: undefined })
  t.is((await fetch(`http://127.0.0.1:${second.httpPort}/torrents/${album.infohash!}.torrent`)).status, 404)
  t.regex(await announce(second, album.infohash!), /failure reason/)
  t.is(await second.stop(), 0)

  const pausedFile = join(options.stateDir, 'paused.json')
  t.deepEqual(JSON.parse(await readFile(pausedFile, 'utf8')), { version: 1, items: [join(library, 'album')] })
  await writeFile(pausedFile, '{"version": 1, "items": [')
  const third = await ServeProcess.start(t, options)
  const back = await third.waitFor(published('album'))
  t.is(back.infohash, album.infohash)
  t.is(back.resumed, 'true')
  const warnings = third.lines.filter((line) => line.code === 'ET_PAUSED_STATE')
  t.is(warnings.length, 1)
  t.is(warnings[0]!.level, 'warn')
})
