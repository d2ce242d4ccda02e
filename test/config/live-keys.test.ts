import { randomBytes } from 'node:crypto'
import { statSync } from 'node:fs'
import { request } from 'node:http'
import { connect, type Socket } from 'node:net'
import { join } from 'node:path'
import test, { type ExecutionContext } from 'ava'
import type { PublishedTorrent } from '../../appliance/catalog/catalog.js'
import type { ItemStatus } from '../../appliance/catalog/item-status.js'
import { LIVE_KEYS, reloadConfig, type ReconfigureResult } from '../../appliance/config/reload.js'
import { defaultSettings, SETTINGS, withOverrides, type SettingKey, type Settings } from '../../appliance/config/settings.js'
import type { Logger } from '../../appliance/platform/logger.js'
import { startService, type Service } from '../../appliance/service.js'
import { writeTree } from '../helpers/content.js'
import { tempDir } from '../helpers/temp-dir.js'
import { MESSAGE, RawPeer } from '../seeder/peers.js'
import { httpAnnounce, maskedTextFrame, openWebSocket, serverClose } from '../tracker/tracker-client.js'
import { httpGet } from '../web/http-client.js'

// Walks the settings table: every key it marks live is changed in a running service through the
// reload path, and its effect is seen on the engine it is for, on peers and connections made before
// the reload too. A live key with no probe here, or whose probe sees no effect, fails by its name.

const HOST = '127.0.0.1'
/** Longer than any effect takes once applied; far shorter than the starting values below. */
const EFFECT_WITHIN_MS = 15_000
const BLOCK = 16 * 1024

interface Box {
  readonly service: Service
  readonly root: string
  readonly library: string
  /** `item.bin`, published at start. */
  readonly torrent: PublishedTorrent
  /** Changes the settings in force through the reload path; the result says what was applied. */
  readonly reload: (values: Partial<Record<SettingKey, unknown>>) => Promise<ReconfigureResult>
}

type Probe = (box: Box, t: ExecutionContext) => Promise<void>

/**
 * The service's settings at start: values far from those the probes set (long timeouts, no rate
 * limits), so an effect seen after the reload is the reload's.
 */
function startingSettings (root: string, library: string): Settings {
  return withOverrides(defaultSettings({ home: root, hostname: 'live-keys', stateHome: root }), {
    'library.folders': [library],
    'library.settle_seconds': 0,
    'library.rescan_interval': 86_400,
    'state.dir': join(root, 'state'),
    'network.listen_host': HOST,
    'network.announce_host': HOST,
    'network.public_host': '',
    'http.port': 0,
    'tracker.port': 0,
    'seeder.port': 0,
    'http.idle_seconds': 3600,
    'http.headers_seconds': 3600,
    'tracker.ws_idle_seconds': 86_400,
    'seeder.handshake_seconds': 600,
    'seeder.idle_seconds': 3600,
    'seeder.local_discovery': false,
    'dht.enabled': false,
    'hashing.threads': 1
  }, 'test')
}

const quietLogger: Logger = { log: () => {} }

async function startBox (t: ExecutionContext): Promise<Box> {
  const root = tempDir(t)
  const library = join(root, 'library')
  writeTree(library, { 'item.bin': 256 * 1024, 'album/track.bin': 64 * 1024 })
  let inForce = startingSettings(root, library)
  const service = await startService(inForce, quietLogger)
  t.teardown(async () => { await service.close() })
  const torrent = await published(service, 'item.bin')
  await published(service, 'album')
  const reload = async (values: Partial<Record<SettingKey, unknown>>): Promise<ReconfigureResult> => {
    const next = withOverrides(inForce, values, 'test')
    const result = await reloadConfig({ load: async () => next, reconfigure: service.reconfigure, logger: quietLogger })
    if (!('live' in result)) throw result
    t.deepEqual(result.failed, [], 'every live change was applied')
    inForce = next
    return result
  }
  return { service, root, library, torrent, reload }
}

/** Resolves with the torrent of the item named `name` once it is published (at once if it is). */
async function published (service: Service, name: string, notInfoHash?: string): Promise<PublishedTorrent> {
  const find = (): PublishedTorrent | undefined => [...service.catalog.all()].find((torrent) => torrent.metainfo.name === name && torrent.metainfo.infoHash !== notInfoHash)
  return find() ?? await new Promise((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error(`"${name}" was not published within ${EFFECT_WITHIN_MS} ms`)) }, EFFECT_WITHIN_MS)
    const onPublished = (): void => {
      const torrent = find()
      if (torrent === undefined) return
      clearTimeout(timer)
      service.publisher.off('published', onPublished)
      resolve(torrent)
    }
    service.publisher.on('published', onPublished)
  })
}

/** A TCP connection to `port` on 127.0.0.1, destroyed when the test ends. */
async function connection (t: ExecutionContext, port: number): Promise<Socket> {
  const socket = connect({ host: HOST, port })
  t.teardown(() => { socket.destroy() })
  socket.on('error', () => {})
  await new Promise((resolve) => socket.once('connect', resolve))
  return socket
}

/** True when the other end closed `socket` within `ms`. */
async function closedWithin (socket: Socket, ms = EFFECT_WITHIN_MS): Promise<boolean> {
  if (socket.destroyed || socket.readableEnded) return true
  return await new Promise((resolve) => {
    const timer = setTimeout(() => { resolve(false) }, ms)
    const done = (): void => { clearTimeout(timer); resolve(true) }
    socket.once('end', done)
    socket.once('close', done)
    socket.resume()
  })
}

/** A peer in the swarm of `torrent`, with the fast extension; interested and unchoked if asked. */
async function peer (t: ExecutionContext, box: Box, { interested = false } = {}): Promise<RawPeer> {
  const joined = await RawPeer.connect(box.service.ports.peer)
  t.teardown(() => { joined.destroy() })
  joined.sendHandshake(box.torrent.metainfo.infoHash, { fast: true })
  await joined.waitFor((message) => message.id === MESSAGE.haveAll || message.id === MESSAGE.bitfield)
  if (interested) {
    joined.sendMessage(MESSAGE.interested)
    await joined.waitFor((message) => message.id === MESSAGE.unchoke)
  }
  return joined
}

async function peers (t: ExecutionContext, box: Box, count: number, options: { interested?: boolean } = {}): Promise<RawPeer[]> {
  return await Promise.all(Array.from({ length: count }, async () => await peer(t, box, options)))
}

/** Requests the first `count` blocks of `torrent` in one write. */
function requestBlocks (joined: RawPeer, torrent: PublishedTorrent, count: number): void {
  const { pieceLength } = torrent.metainfo
  joined.write(Buffer.concat(Array.from({ length: count }, (_, block) => RawPeer.message(MESSAGE.request, Math.floor(block * BLOCK / pieceLength), block * BLOCK % pieceLength, BLOCK))))
}

/** Requests the first `count` blocks; resolves with the pieces that came within `ms` of the first. */
async function piecesWithin (joined: RawPeer, torrent: PublishedTorrent, count: number, ms: number): Promise<number> {
  requestBlocks(joined, torrent, count)
  await joined.waitFor((message) => message.id === MESSAGE.piece)
  await new Promise((resolve) => setTimeout(resolve, ms))
  return joined.messages.filter((message) => message.id === MESSAGE.piece).length
}

/** Opens `/api/events` and resolves with the status of its answer; the stream stays open until the test ends. */
async function eventStream (t: ExecutionContext, port: number): Promise<number> {
  return await new Promise((resolve, reject) => {
    const req = request({ host: HOST, port, path: '/api/events', agent: false }, (res) => {
      t.teardown(() => { res.destroy() })
      resolve(res.statusCode ?? 0)
    })
    req.once('error', reject)
    req.end()
  })
}

/** The `incomplete` count of a made-up infohash's swarm, after one more leecher announces to it. */
async function leechersAfterAnnounce (box: Box, infoHash: Buffer, port: number): Promise<number | undefined> {
  return (await httpAnnounce(HOST, box.service.ports.tracker, { infoHash, port })).incomplete
}

const PROBES: Readonly<Partial<Record<SettingKey, Probe>>> = {
  'library.folders': async (box, t) => {
    const added = join(box.root, 'added')
    await box.reload({ 'library.folders': [box.library, added] })
    t.true(statSync(added).isDirectory(), 'a new library folder is created, as at start')
    writeTree(added, { 'new.bin': 50_000 })
    await published(box.service, 'new.bin')
  },
  'library.rescan_interval': async (box) => {
    const before = (await published(box.service, 'album')).metainfo.infoHash
    await box.reload({ 'library.rescan_interval': 1 })
    // A change inside an item's folder is seen by a full rescan only: the folder watch sees top-level entries.
    writeTree(box.library, { 'album/track.bin': 'other bytes' })
    await published(box.service, 'album', before)
  },
  'library.settle_seconds': async (box, t) => {
    await box.reload({ 'library.settle_seconds': 3600 })
    const path = join(box.library, 'fresh.bin')
    const states: string[] = []
    const seen = new Promise<void>((resolve) => {
      box.service.publisher.on('item', (status: ItemStatus) => {
        if (status.path !== path) return
        states.push(status.state)
        if (status.state !== 'queued') resolve()
      })
    })
    writeTree(box.library, { 'fresh.bin': 10_000 })
    await seen
    t.is(states.find((state) => state !== 'queued'), 'waiting', 'content written just now waits to settle')
  },
  'http.max_connections': async (box, t) => {
    await box.reload({ 'http.max_connections': 16 })
    const held = await Promise.all(Array.from({ length: 16 }, async () => await connection(t, box.service.ports.http)))
    t.true(await closedWithin(await connection(t, box.service.ports.http)), 'the 17th connection is closed')
    t.false(held.some((socket) => socket.destroyed), 'the 16 stay')
  },
  'http.max_connections_per_address': async (box, t) => {
    const first = await connection(t, box.service.ports.http)
    await box.reload({ 'http.max_connections_per_address': 1 })
    t.true(await closedWithin(await connection(t, box.service.ports.http)), 'a second connection from the address is closed')
    t.false(first.destroyed)
  },
  'http.idle_seconds': async (box, t) => {
    const socket = await connection(t, box.service.ports.http)
    await box.reload({ 'http.idle_seconds': 1 })
    socket.write(`GET /favicon.svg HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`)
    await new Promise((resolve) => socket.once('data', resolve))
    t.true(await closedWithin(socket), 'a kept-alive connection made before the reload is closed after the new idle time')
  },
  'http.headers_seconds': async (box, t) => {
    await box.reload({ 'http.headers_seconds': 1 })
    t.true(await closedWithin(await connection(t, box.service.ports.http)), 'a connection that sends nothing is closed after the new time')
  },
  'http.max_event_streams': async (box, t) => {
    await box.reload({ 'http.max_event_streams': 1 })
    t.is(await eventStream(t, box.service.ports.http), 200)
    t.is(await eventStream(t, box.service.ports.http), 503)
  },
  'http.event_streams_per_address': async (box, t) => {
    await box.reload({ 'http.event_streams_per_address': 1 })
    t.is(await eventStream(t, box.service.ports.http), 200)
    t.is(await eventStream(t, box.service.ports.http), 429)
  },
  'tracker.mode': async (box, t) => {
    const unknown = randomBytes(20)
    await box.reload({ 'tracker.mode': 'open' })
    t.is((await httpAnnounce(HOST, box.service.ports.tracker, { infoHash: unknown, port: 7001 })).failure, undefined, 'a torrent not published here is tracked')
  },
  'tracker.max_swarms': async (box, t) => {
    await box.reload({ 'tracker.mode': 'open' })
    const [first, second] = [randomBytes(20), randomBytes(20)]
    await leechersAfterAnnounce(box, first, 7001)
    await box.reload({ 'tracker.max_swarms': 1 })
    await leechersAfterAnnounce(box, second, 7002)
    t.is(await leechersAfterAnnounce(box, first, 7003), 1, 'the first swarm was dropped for the second')
  },
  'tracker.max_peers': async (box, t) => {
    await box.reload({ 'tracker.mode': 'open' })
    const [crowded, other] = [randomBytes(20), randomBytes(20)]
    for (let port = 7000; port < 7100; port++) await leechersAfterAnnounce(box, crowded, port)
    await box.reload({ 'tracker.max_peers': 100 })
    await leechersAfterAnnounce(box, other, 8000)
    t.is(await leechersAfterAnnounce(box, crowded, 8001), 1, 'the 101st peer dropped the crowded swarm')
  },
  'tracker.ws_idle_seconds': async (box, t) => {
    const socket = await openWebSocket(HOST, box.service.ports.tracker, '/announce')
    t.teardown(() => { socket.destroy() })
    await box.reload({ 'tracker.ws_idle_seconds': 10 })
    const closed = serverClose(socket, 10_000 + EFFECT_WITHIN_MS)
    socket.write(maskedTextFrame(JSON.stringify({ action: 'announce', info_hash: Buffer.from(box.torrent.metainfo.infoHash, 'hex').toString('latin1'), peer_id: randomBytes(20).toString('latin1'), numwant: 0, offers: [], event: 'started', left: 0 })))
    await closed
  },
  'seeder.upload_slots': async (box, t) => {
    const interested = await peers(t, box, 3, { interested: true })
    await box.reload({ 'seeder.upload_slots': 1 })
    const choked = Promise.any(interested.map(async (joined) => await joined.waitFor((message) => message.id === MESSAGE.choke, EFFECT_WITHIN_MS)))
    t.true(await choked.then(() => true, () => false), 'one slot and the optimistic one: one of three peers is choked')
  },
  'seeder.max_connections': async (box, t) => {
    const connected = await peers(t, box, 3)
    await box.reload({ 'seeder.max_connections': 1 })
    t.true(await (await RawPeer.connect(box.service.ports.peer)).closedWithin(), 'a new peer is refused')
    t.false(connected.some((joined) => joined.isClosed), 'the peers connected before stay')
  },
  'seeder.max_connections_per_torrent': async (box, t) => {
    await peers(t, box, 3)
    await box.reload({ 'seeder.max_connections_per_torrent': 1 })
    const newcomer = await RawPeer.connect(box.service.ports.peer)
    t.teardown(() => { newcomer.destroy() })
    newcomer.sendHandshake(box.torrent.metainfo.infoHash, { fast: true })
    t.true(await newcomer.closedWithin(), 'a new peer of the full torrent is refused')
  },
  'seeder.max_connections_per_address': async (box, t) => {
    await peers(t, box, 3)
    await box.reload({ 'seeder.max_connections_per_address': 1 })
    t.true(await (await RawPeer.connect(box.service.ports.peer)).closedWithin(), 'a new peer from the same address is refused')
  },
  'seeder.handshake_seconds': async (box, t) => {
    await box.reload({ 'seeder.handshake_seconds': 1 })
    const silent = await RawPeer.connect(box.service.ports.peer)
    t.teardown(() => { silent.destroy() })
    t.true(await silent.closedWithin(), 'a peer that does not handshake is closed after the new time')
  },
  'seeder.idle_seconds': async (box, t) => {
    const silent = await peer(t, box)
    await box.reload({ 'seeder.idle_seconds': 30 })
    t.true(await silent.closedWithin(30_000 + EFFECT_WITHIN_MS), 'a silent peer connected before the reload is closed after the new idle time')
  },
  'seeder.upload_rate_limit': async (box, t) => {
    const joined = await peer(t, box, { interested: true })
    await box.reload({ 'seeder.upload_rate_limit': 1 })
    // One block's worth of tokens is kept; at one byte a second the next block is hours away.
    t.is(await piecesWithin(joined, box.torrent, 3, 2000), 1)
  },
  'seeder.peer_upload_rate_limit': async (box, t) => {
    const joined = await peer(t, box, { interested: true })
    await box.reload({ 'seeder.peer_upload_rate_limit': 1 })
    t.is(await piecesWithin(joined, box.torrent, 3, 2000), 1, 'the rate reaches a peer connected before the reload')
  },
  'seeder.max_requests_per_peer': async (box, t) => {
    const joined = await peer(t, box, { interested: true })
    await box.reload({ 'seeder.max_requests_per_peer': 1 })
    requestBlocks(joined, box.torrent, 2)
    const rejected = joined.waitFor((message) => message.id === MESSAGE.reject, EFFECT_WITHIN_MS)
    t.true(await rejected.then(() => true, () => false), 'a peer connected before the reload has its second request rejected (BEP 6)')
  },
  'network.public_host': async (box, t) => {
    const { infoHash } = box.torrent.metainfo
    const before = await httpGet(HOST, box.service.ports.http, `/torrents/${infoHash}.torrent`)
    t.false(before.body.includes('198.51.100.7'))
    await box.reload({ 'network.public_host': '198.51.100.7' })
    const after = await httpGet(HOST, box.service.ports.http, `/torrents/${infoHash}.torrent`)
    const { tracker, http } = box.service.ports
    t.true(after.body.includes(`http://198.51.100.7:${tracker}/announce`), 'the .torrent names the public tracker')
    t.true(after.body.includes(`http://198.51.100.7:${http}/webseed/${infoHash}/`), 'and the public web seed')
    t.is(box.service.catalog.get(infoHash), box.torrent, 'the same torrent stays published')
  },
  'web.admin_token': async (box, t) => {
    const token = 'live-keys-token'
    await box.reload({ 'web.admin_token': token })
    const answer = await httpGet(HOST, box.service.ports.http, '/api/actions/rescan', { method: 'POST', headers: { Authorization: `Bearer ${token}` } })
    t.true(answer.status === 200 || answer.status === 202, `the action runs with the new token: ${answer.status} ${answer.body.toString()}`)
  }
}

for (const key of LIVE_KEYS) {
  test(`${key}: a reload reaches the running engine`, async (t) => {
    t.timeout(2 * 60_000)
    const probe = PROBES[key]
    if (probe === undefined) {
      t.fail(`${key} is live in the settings table, but nothing here shows its effect: add a probe`)
      return
    }
    await probe(await startBox(t), t)
  })
}

test('every probe is of a live key', (t) => {
  t.deepEqual(Object.keys(PROBES).filter((key) => !LIVE_KEYS.has(key as SettingKey)), [])
})

/** A valid value of `key` other than `current`. */
function otherValue (key: SettingKey, current: unknown): unknown {
  const kind = SETTINGS[key].kind
  switch (kind.type) {
    case 'integer': return current === kind.min ? kind.min + 1 : kind.min
    case 'boolean': return current !== true
    case 'choice': return kind.values.find((value) => value !== current)
    case 'strings': return ['/changed']
    case 'string': return `${String(current)}-changed`
    case 'mirrors': return [{ feed: 'http://changed.invalid/feed.json', folder: '/mirror-changed' }]
  }
}

test('every other key is reported as waiting for a restart, and a reload of them alone applies nothing', async (t) => {
  const box = await startBox(t)
  const restart = (Object.keys(SETTINGS) as SettingKey[]).filter((key) => !LIVE_KEYS.has(key))
  const before = box.service.ports
  const result = await box.reload(Object.fromEntries(restart.map((key) => [key, otherValue(key, startingSettings(box.root, box.library)[key])])))
  t.deepEqual(result.restart, restart)
  t.deepEqual(result.live, [])
  t.deepEqual(box.service.ports, before)
  t.is((await httpGet(HOST, before.http, '/api/status')).status, 200, 'the service serves on as it started')
})
