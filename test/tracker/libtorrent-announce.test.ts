import test, { type ExecutionContext } from 'ava'
import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { Catalog } from '../../appliance/catalog/catalog.js'
import { encodeTorrent } from '../../appliance/metainfo/metainfo.js'
import { Tracker, trackerOptionsFrom, type AnnounceEvent, type TrackerTransport } from '../../appliance/tracker/tracker.js'
import { SYSTEM_PYTHON } from '../helpers/libtorrent.js'
import { DEFAULTS } from '../helpers/defaults.js'
import { sourcePath } from '../helpers/repo.js'
import { tempDir } from '../helpers/temp-dir.js'
import { writeTree } from '../helpers/content.js'
import { publish } from '../seeder/fixtures.js'
import { fakePublished, mountTracker } from './fixture.js'

const CLIENT = '127.0.0.2'
const BOX = '127.0.0.3'

interface Handshake {
  readonly from: string
  readonly infoHash: string
}

/** A TCP listener standing in for the everseed: resolves with the first BitTorrent handshake (BEP 3) it gets. */
async function fakeEverseed (t: ExecutionContext): Promise<{ port: number, handshake: Promise<Handshake> }> {
  let resolveHandshake: (handshake: Handshake) => void = () => {}
  const handshake = new Promise<Handshake>((resolve) => { resolveHandshake = resolve })
  const server = createServer((socket) => {
    let received = Buffer.alloc(0)
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk])
      if (received.length < 48) return
      if (received[0] === 19 && received.toString('latin1', 1, 20) === 'BitTorrent protocol') {
        resolveHandshake({ from: socket.remoteAddress ?? '', infoHash: received.toString('hex', 28, 48) })
      }
      socket.destroy()
    })
    socket.on('error', () => {})
  })
  await new Promise<void>((resolve) => server.listen(0, BOX, resolve))
  t.teardown(async () => { await new Promise((resolve) => server.close(resolve)) })
  return { port: (server.address() as { port: number }).port, handshake }
}

/** libtorrent on 127.0.0.2 announces to our tracker on 127.0.0.3 and must then knock on the everseed there. */
async function libtorrentJoins (t: ExecutionContext, transport: Exclude<TrackerTransport, 'ws'>): Promise<void> {
  const folder = tempDir(t)
  const everseed = await fakeEverseed(t)
  const catalog = new Catalog()
  const published = fakePublished('content.bin')
  catalog.add(published)
  const tracker = new Tracker({ ...trackerOptionsFrom(DEFAULTS), catalog, everseedPort: everseed.port, udpPort: 0, host: BOX })
  await tracker.start()
  t.teardown(async () => { await tracker.close() })
  const web = await mountTracker(t, tracker, BOX)
  const announced = new Promise<AnnounceEvent>((resolve) => {
    tracker.on('announce', (event) => { if (event.transport === transport) resolve(event) })
  })

  const announce = transport === 'http' ? `http://${BOX}:${web.port}/announce` : `udp://${BOX}:${tracker.udpPort!}`
  const torrentPath = join(folder, 'content.torrent')
  writeFileSync(torrentPath, encodeTorrent({ ...published.metainfo, announceList: [[announce]] }))

  const output: string[] = []
  const child = spawn(SYSTEM_PYTHON, [sourcePath('test/tracker/libtorrent-announce.py'), torrentPath, folder, CLIENT, '20'], { stdio: ['ignore', 'pipe', 'pipe'] })
  child.stdout.on('data', (chunk: Buffer) => output.push(chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString()))
  t.teardown(() => { if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGKILL') })
  const exited = new Promise<never>((_resolve, reject) => {
    child.once('error', reject)
    child.once('exit', (code) => { reject(new Error(`libtorrent client exited (${String(code)}) before reaching the everseed:\n${output.join('')}`)) })
  })

  const [event, handshake] = await Promise.race([Promise.all([announced, everseed.handshake]), exited])
  t.like(event, { infoHash: published.metainfo.infoHash, event: 'started' })
  t.regex(event.peer ?? '', new RegExp(`^${CLIENT.replaceAll('.', '\\.')}:\\d+$`))
  t.deepEqual(handshake, { from: CLIENT, infoHash: published.metainfo.infoHash })
}

test('libtorrent announcing over HTTP is handed the everseed at the address it reached the tracker at', async (t) => {
  await libtorrentJoins(t, 'http')
})

test('libtorrent announcing over UDP is handed the everseed at the address it reached the tracker at', async (t) => {
  await libtorrentJoins(t, 'udp')
})

test('libtorrent announcing a hybrid torrent is answered under both its infohashes, v1 and truncated v2, in one swarm', async (t) => {
  const folder = tempDir(t)
  writeTree(folder, { 'hybrid/a.bin': 40_000, 'hybrid/b.bin': 1000 })
  const published = await publish(join(folder, 'hybrid'), { pieceLength: 16 * 1024, format: 'hybrid' })
  const catalog = new Catalog()
  catalog.add(published)
  const everseed = await fakeEverseed(t)
  const tracker = new Tracker({ ...trackerOptionsFrom(DEFAULTS), catalog, everseedPort: everseed.port, udpPort: 0, host: BOX })
  await tracker.start()
  t.teardown(async () => { await tracker.close() })
  const warnings: string[] = []
  tracker.on('warning', (error) => warnings.push(error.message))
  const web = await mountTracker(t, tracker, BOX)
  const torrentPath = join(folder, 'hybrid.torrent')
  writeFileSync(torrentPath, encodeTorrent({ ...published.metainfo, announceList: [[`http://${BOX}:${web.port}/announce`]] }))

  const replies: string[] = []
  const output: string[] = []
  // An empty save path: libtorrent is a leecher and announces at once.
  const child = spawn(SYSTEM_PYTHON, [sourcePath('test/tracker/libtorrent-announce.py'), torrentPath, join(folder, 'empty'), CLIENT, '30'], { stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(() => { if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGKILL') })
  const bothAnswered = new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      output.push(chunk.toString())
      for (const line of chunk.toString().split('\n').filter((text) => text.startsWith('{'))) {
        const report = JSON.parse(line) as { type: string, message?: string }
        if (report.type === 'tracker_error') reject(new Error(`libtorrent: ${report.message ?? ''}`))
        if (report.type === 'tracker_reply') replies.push(report.message ?? '')
      }
      if (replies.some((message) => /\bv1\b/.test(message)) && replies.some((message) => /\bv2\b/.test(message))) resolve()
    })
    child.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString()))
    child.once('exit', (code) => { reject(new Error(`libtorrent client exited (${String(code)}) before both announces were answered:\n${output.join('')}`)) })
  })
  await bothAnswered
  t.deepEqual(warnings, [], 'neither announce was refused')
  // Handed the everseed under both, libtorrent dials it with either (the truncated v2 one makes it a BEP 52 connection).
  const handshake = await everseed.handshake
  t.is(handshake.from, CLIENT)
  t.true([published.metainfo.infoHash, published.metainfo.infoHashV2!.slice(0, 40)].includes(handshake.infoHash), `libtorrent dialled the everseed with ${handshake.infoHash}`)
  t.like(tracker.stats(published.metainfo.infoHash), { leechers: 1 }, 'libtorrent is one peer of one swarm')
})
