import test, { type ExecutionContext } from 'ava'
import bencode from 'bencode'
import { randomBytes } from 'node:crypto'
import { Tracker, trackerOptionsFrom, UNPUBLISHED_REASON, type AnnounceEvent } from '../../appliance/tracker/tracker.js'
import type { TrackerError } from '../../appliance/tracker/errors.js'
import { Catalog, type PublishedTorrent } from '../../appliance/catalog/catalog.js'
import { join } from 'node:path'
import { writeTree } from '../helpers/content.js'
import { tempDir } from '../helpers/temp-dir.js'
import { publish } from '../seeder/fixtures.js'
import { MAX_NUMWANT } from '../../appliance/tracker/announce.js'
import { DEFAULTS } from '../helpers/defaults.js'
import { EVERSEED_PORT, fakePublished, mountTracker, startTracker } from './fixture.js'
import {
  announcePath,
  closeCode,
  httpAnnounce,
  maskedFrameHeader,
  maskedTextFrame,
  openWebSocket,
  serverClose,
  percentEncode,
  udpAnnounce,
  udpAnnouncePacket,
  udpClient,
  udpConnect,
  udpExchange,
  udpScrape,
  webSocketExchange
} from './tracker-client.js'
import { httpGet } from '../web/http-client.js'

const CLIENT = '127.0.0.2'
const BOX = '127.0.0.3'

test('HTTP: a client that reached the box at 127.0.0.3 is handed the everseed at 127.0.0.3, alone in an empty swarm', async (t) => {
  const { tracker, infoHash, httpPort } = await startTracker(t, BOX)
  const events: AnnounceEvent[] = []
  tracker.on('announce', (event) => events.push(event))

  const compact = await httpAnnounce(BOX, httpPort, { infoHash, port: 51413, event: 'started' }, CLIENT)
  t.deepEqual(compact.peers, [`${BOX}:${EVERSEED_PORT}`])
  t.is(compact.complete, 1, 'the everseed is a seeder')
  t.is(compact.incomplete, 1, 'the client itself, a leecher')

  const full = await httpAnnounce(BOX, httpPort, { infoHash, port: 51413, compact: 0 }, CLIENT)
  t.deepEqual(full.peers, [`${BOX}:${EVERSEED_PORT}`])

  t.like(events[0], { infoHash: infoHash.toString('hex'), event: 'started', transport: 'http', peer: `${CLIENT}:51413`, swarm: { seeders: 0, leechers: 1, completed: 0 } })
  t.is(events[1]?.event, 'update')
})

test('HTTP: the same tracker behind two addresses hands out each client the address it used', async (t) => {
  const { tracker, infoHash, httpPort } = await startTracker(t, BOX)
  const other = await mountTracker(t, tracker, '127.0.0.4')
  t.deepEqual((await httpAnnounce('127.0.0.4', other.port, { infoHash, port: 1000 }, CLIENT)).peers, [`127.0.0.4:${EVERSEED_PORT}`])
  t.deepEqual((await httpAnnounce(BOX, httpPort, { infoHash, port: 1001 }, CLIENT)).peers, [`${BOX}:${EVERSEED_PORT}`, `${CLIENT}:1000`])
})

test('UDP: a client on 127.0.0.2 announcing to 127.0.0.3 is handed the everseed at 127.0.0.3', async (t) => {
  const { infoHash, udpPort } = await startTracker(t, BOX)
  const socket = await udpClient(t, CLIENT)
  const answer = await udpAnnounce(socket, BOX, udpPort, { infoHash, port: 51413 })
  t.is(answer.action, 1)
  t.deepEqual(answer.peers, [`${BOX}:${EVERSEED_PORT}`])
  t.is(answer.seeders, 1)
  t.is(answer.leechers, 1)
})

test('UDP: one socket per local address, following addresses that come and go', async (t) => {
  const catalog = new Catalog()
  const published = fakePublished('a.bin')
  catalog.add(published)
  const addresses = [BOX]
  const tracker = new Tracker({ ...trackerOptionsFrom(DEFAULTS), catalog, everseedPort: EVERSEED_PORT, udpPort: 0, listAddresses: () => addresses, addressRefreshMs: 3_600_000 })
  await tracker.start()
  t.teardown(async () => { await tracker.close() })
  const infoHash = Buffer.from(published.metainfo.infoHash, 'hex')
  const port = tracker.udpPort!
  const socket = await udpClient(t, CLIENT)

  addresses.push('127.0.0.4')
  await tracker.refreshAddresses()
  t.deepEqual((await udpAnnounce(socket, '127.0.0.4', port, { infoHash, port: 1 })).peers[0], `127.0.0.4:${EVERSEED_PORT}`)
  t.deepEqual((await udpAnnounce(socket, BOX, port, { infoHash, port: 1 })).peers[0], `${BOX}:${EVERSEED_PORT}`)

  addresses.shift()
  await tracker.refreshAddresses()
  const connect = Buffer.from('0000041727101980' + '00000000' + '00000001', 'hex')
  await t.throwsAsync(udpExchange(socket, connect, BOX, port, 300), { message: /no UDP answer/ })
})

test('IPv6: a client on ::1 gets the everseed at ::1, in peers6 over HTTP and as 18-byte peers over UDP', async (t) => {
  const { infoHash, httpPort, udpPort } = await startTracker(t, '::1')
  const compact = await httpGet('::1', httpPort, announcePath({ infoHash, port: 51413 }), { localAddress: '::1' })
  const decoded = bencode.decode(compact.body)
  t.is(Buffer.from(decoded.peers).length, 0)
  t.is(Buffer.from(decoded.peers6).toString('hex'), `${'0'.repeat(30)}01${EVERSEED_PORT.toString(16).padStart(4, '0')}`)
  t.deepEqual((await httpAnnounce('::1', httpPort, { infoHash, port: 51413, compact: 0 }, '::1')).peers, [`[::1]:${EVERSEED_PORT}`])

  const socket = await udpClient(t, '::1')
  const answer = await udpAnnounce(socket, '::1', udpPort, { infoHash, port: 51413 })
  t.deepEqual(answer.peers, [`[::1]:${EVERSEED_PORT}`])
})

test('a UDP answer stays one datagram within the IPv6 minimum MTU: up to 200 IPv4 peers, 67 IPv6 ones; HTTP hands out 200 of either', async (t) => {
  for (const host of [BOX, '::1']) {
    const { infoHash, httpPort, udpPort } = await startTracker(t, host)
    const socket = await udpClient(t, host)
    for (let peer = 0; peer < 250; peer++) await udpAnnounce(socket, host, udpPort, { infoHash, port: 20_000 + peer, numwant: 0 })
    const answer = await udpAnnounce(socket, host, udpPort, { infoHash, port: 20_000, numwant: 1000 })
    const expected = host === BOX ? MAX_NUMWANT : 67
    t.is(answer.peers.length, expected, `UDP over ${host}`)
    t.true(20 + expected * (host === BOX ? 6 : 18) <= 1280 - 48, 'within the IPv6 minimum MTU')
    const http = bencode.decode((await httpGet(host, httpPort, announcePath({ infoHash, port: 20_000, numwant: 1000 }), { localAddress: host })).body)
    t.is(Buffer.from(host === BOX ? http.peers : http.peers6).length / (host === BOX ? 6 : 18), MAX_NUMWANT, `HTTP over ${host}`)
  }
})

test('published-only refuses an unknown infohash with a clear failure reason, over HTTP, UDP and WebSocket', async (t) => {
  const { tracker, httpPort, udpPort } = await startTracker(t, BOX)
  const warnings: TrackerError[] = []
  tracker.on('warning', (error) => warnings.push(error))
  const unknown = randomBytes(20)

  t.is((await httpAnnounce(BOX, httpPort, { infoHash: unknown, port: 1 }, CLIENT)).failure, UNPUBLISHED_REASON)
  const socket = await udpClient(t, CLIENT)
  const udp = await udpAnnounce(socket, BOX, udpPort, { infoHash: unknown, port: 1 })
  t.is(udp.action, 3)
  t.is(udp.error, UNPUBLISHED_REASON)
  const ws = await webSocketExchange(BOX, httpPort, '/announce', { action: 'announce', info_hash: unknown.toString('latin1'), peer_id: randomBytes(20).toString('latin1'), numwant: 0, offers: [], event: 'started', left: 1 })
  t.like(ws, { 'failure reason': UNPUBLISHED_REASON })

  t.deepEqual(warnings.map((warning) => warning.code), ['ET_UNPUBLISHED', 'ET_UNPUBLISHED', 'ET_UNPUBLISHED'])
  t.is(tracker.stats(unknown.toString('hex')), undefined)
})

test('open mode tracks any infohash, without an everseed in swarms it does not publish', async (t) => {
  const { infoHash: published, httpPort, udpPort } = await startTracker(t, BOX, { mode: 'open' })
  const unknown = randomBytes(20)
  const first = await httpAnnounce(BOX, httpPort, { infoHash: unknown, port: 1000, left: 0 }, CLIENT)
  t.deepEqual(first, { complete: 1, incomplete: 0, peers: [] })
  const socket = await udpClient(t, CLIENT)
  const second = await udpAnnounce(socket, BOX, udpPort, { infoHash: unknown, port: 1001 })
  t.deepEqual(second.peers, [`${CLIENT}:1000`])
  t.deepEqual((await httpAnnounce(BOX, httpPort, { infoHash: published, port: 1 }, CLIENT)).peers, [`${BOX}:${EVERSEED_PORT}`])
})

test('WebSocket announces for a published torrent are answered; WebRTC peers are not given the TCP everseed', async (t) => {
  const { tracker, infoHash, httpPort } = await startTracker(t, BOX)
  const events: AnnounceEvent[] = []
  tracker.on('announce', (event) => events.push(event))
  const answer = await webSocketExchange(BOX, httpPort, '/announce', { action: 'announce', info_hash: infoHash.toString('latin1'), peer_id: randomBytes(20).toString('latin1'), numwant: 0, offers: [], event: 'started', left: 0 })
  t.like(answer, { action: 'announce', complete: 1, incomplete: 0 })
  t.like(events[0], { transport: 'ws', event: 'started' })
})

test('scrape counts the everseed as a seeder, over HTTP and UDP, and the tracker exposes the same counts', async (t) => {
  const { tracker, infoHash, httpPort, udpPort } = await startTracker(t, BOX)
  const hex = infoHash.toString('hex')
  const scrapeHttp = async (): Promise<unknown> => {
    const { body } = await httpGet(BOX, httpPort, `/scrape?info_hash=${percentEncode(infoHash)}`)
    const files = Object.values(bencode.decode(body).files)
    t.is(files.length, 1)
    return files[0]
  }
  t.deepEqual(await scrapeHttp(), { complete: 1, downloaded: 0, incomplete: 0 })

  await httpAnnounce(BOX, httpPort, { infoHash, port: 2000, event: 'started' }, CLIENT)
  await httpAnnounce(BOX, httpPort, { infoHash, port: 2001, event: 'started' }, CLIENT)
  await httpAnnounce(BOX, httpPort, { infoHash, port: 2001, event: 'completed', left: 0 }, CLIENT)
  t.deepEqual(await scrapeHttp(), { complete: 2, downloaded: 1, incomplete: 1 })
  t.deepEqual(tracker.stats(hex), { seeders: 1, leechers: 1, completed: 1 })

  const socket = await udpClient(t, CLIENT)
  t.deepEqual(await udpScrape(socket, BOX, udpPort, [infoHash, randomBytes(20)]), [[2, 1, 1], [0, 0, 0]])

  const all = bencode.decode((await httpGet(BOX, httpPort, '/scrape')).body).files
  t.is(Object.keys(all).length, 1, 'a scrape without info_hash covers the published torrent')
})

test('other peers follow the everseed, numwant is respected, and the requester never gets itself', async (t) => {
  const { infoHash, httpPort } = await startTracker(t, BOX)
  for (let port = 3000; port < 3005; port++) await httpAnnounce(BOX, httpPort, { infoHash, port }, CLIENT)
  const all = await httpAnnounce(BOX, httpPort, { infoHash, port: 3000 }, CLIENT)
  t.is(all.peers[0], `${BOX}:${EVERSEED_PORT}`)
  t.deepEqual(all.peers.slice(1).sort(), [3001, 3002, 3003, 3004].map((port) => `${CLIENT}:${port}`))
  t.deepEqual((await httpAnnounce(BOX, httpPort, { infoHash, port: 3000, numwant: 1 }, CLIENT)).peers, [`${BOX}:${EVERSEED_PORT}`])
  t.is((await httpAnnounce(BOX, httpPort, { infoHash, port: 3000, numwant: 2 }, CLIENT)).peers.length, 2)
  t.is((await httpAnnounce(BOX, httpPort, { infoHash, port: 3000, numwant: 0 }, CLIENT)).peers.length, 0)
  t.is((await httpAnnounce(BOX, httpPort, { infoHash, port: 3000, numwant: 2 ** 31 }, CLIENT)).peers.length, 5)
})

test('the seeder announcing to its own tracker is not handed itself nor counted twice', async (t) => {
  const { tracker, infoHash, httpPort, udpPort } = await startTracker(t, BOX)
  const http = await httpAnnounce(BOX, httpPort, { infoHash, port: EVERSEED_PORT, left: 0, event: 'started' }, CLIENT)
  t.deepEqual(http, { complete: 1, incomplete: 0, peers: [] })
  const socket = await udpClient(t, BOX)
  const udp = await udpAnnounce(socket, BOX, udpPort, { infoHash, port: EVERSEED_PORT, left: 0 })
  t.deepEqual(udp.peers, [])
  t.deepEqual(tracker.stats(infoHash.toString('hex')), { seeders: 0, leechers: 0, completed: 0 })
  t.deepEqual((await httpAnnounce(BOX, httpPort, { infoHash, port: 4000 }, CLIENT)).peers, [`${BOX}:${EVERSEED_PORT}`])
})

test('hostile HTTP announces get a failure reason and the tracker keeps answering', async (t) => {
  const { tracker, infoHash, httpPort } = await startTracker(t, BOX)
  const warnings: TrackerError[] = []
  tracker.on('warning', (error) => warnings.push(error))
  const failures = await Promise.all([
    '/announce',
    '/announce?peer_id=aaaaaaaaaaaaaaaaaaaa&port=1',
    `/announce?info_hash=${percentEncode(infoHash.subarray(0, 19))}&peer_id=aaaaaaaaaaaaaaaaaaaa&port=1`,
    `/announce?info_hash=${percentEncode(infoHash)}&peer_id=short&port=1`,
    `/announce?info_hash=${percentEncode(infoHash)}&peer_id=aaaaaaaaaaaaaaaaaaaa&port=0`,
    `/announce?info_hash=${percentEncode(infoHash)}&peer_id=aaaaaaaaaaaaaaaaaaaa&port=1&numwant=1e999`,
    '/announce?info_hash=%zz%&&&===&peer_id',
    `/announce?${'info_hash=x&'.repeat(600)}` // 7 KiB: under http.max_header_bytes
  ].map(async (path) => await httpGet(BOX, httpPort, path, { localAddress: CLIENT })))
  for (const failure of failures) {
    t.is(failure.status, 200)
    t.regex(Buffer.from(bencode.decode(failure.body)['failure reason']).toString(), /^bad announce: /)
  }
  t.true(warnings.length === failures.length && warnings.every((warning) => warning.code === 'ET_BAD_REQUEST'))
  t.deepEqual((await httpAnnounce(BOX, httpPort, { infoHash, port: 1 }, CLIENT)).peers, [`${BOX}:${EVERSEED_PORT}`])
})

test('garbage UDP packets and forged connection ids are dropped and the tracker keeps answering', async (t) => {
  const { tracker, infoHash, udpPort } = await startTracker(t, BOX)
  const warnings: TrackerError[] = []
  tracker.on('warning', (error) => warnings.push(error))
  const socket = await udpClient(t, CLIENT)
  const forged = udpAnnouncePacket(Buffer.from('0000041727101980', 'hex'), { infoHash, port: 1 })
  const garbage = [Buffer.alloc(0), Buffer.from('GET / HTTP/1.1\r\n\r\n'), randomBytes(1400), forged, forged.subarray(0, 50)]
  for (const packet of garbage) {
    await t.throwsAsync(udpExchange(socket, packet, BOX, udpPort, 150), { message: /no UDP answer/ })
  }
  t.is(warnings.length, garbage.length)
  t.true(warnings.every((warning) => warning.code === 'ET_BAD_REQUEST'))
  const answer = await udpAnnounce(socket, BOX, udpPort, { infoHash, port: 1, numwant: 2 ** 31 - 1 })
  t.deepEqual(answer.peers, [`${BOX}:${EVERSEED_PORT}`])
})

test('a torrent removed from the catalog loses its swarm in published-only mode', async (t) => {
  const { tracker, catalog, published, infoHash, httpPort } = await startTracker(t, BOX)
  await httpAnnounce(BOX, httpPort, { infoHash, port: 1 }, CLIENT)
  t.is(tracker.stats(published.metainfo.infoHash)?.leechers, 1)
  catalog.remove(published.metainfo.infoHash)
  t.is(tracker.stats(published.metainfo.infoHash), undefined)
  t.is((await httpAnnounce(BOX, httpPort, { infoHash, port: 1 }, CLIENT)).failure, UNPUBLISHED_REASON)
})

test('start fails with ET_LISTEN when the UDP port cannot be bound', async (t) => {
  const { udpPort } = await startTracker(t, BOX)
  const tracker = new Tracker({ ...trackerOptionsFrom(DEFAULTS), catalog: new Catalog(), everseedPort: EVERSEED_PORT, udpPort, host: BOX })
  await t.throwsAsync(tracker.start(), { code: 'ET_LISTEN' as never })
  await tracker.close()
})

test('open mode keeps at most maxSwarms swarms of torrents it does not publish, dropping the least recently announced', async (t) => {
  const { tracker, infoHash: published, httpPort } = await startTracker(t, BOX, { mode: 'open', maxSwarms: 5 })
  const events: AnnounceEvent[] = []
  tracker.on('announce', (event) => events.push(event))
  await httpAnnounce(BOX, httpPort, { infoHash: published, port: 1 }, CLIENT)
  const foreign = Array.from({ length: 20 }, () => randomBytes(20))
  for (const infoHash of foreign) await httpAnnounce(BOX, httpPort, { infoHash, port: 1 }, CLIENT)
  t.deepEqual(events.map((event) => event.published), [true, ...Array(20).fill(false)])
  t.is(tracker.size.foreignSwarms, 5)
  t.deepEqual(foreign.map((infoHash) => tracker.stats(infoHash.toString('hex')) !== undefined), [...Array(15).fill(false), ...Array(5).fill(true)])
  t.is(tracker.stats(published.toString('hex'))?.leechers, 1, 'the published swarm, announced to first, is never dropped')
  // An announce moves a swarm to the back of the line.
  await httpAnnounce(BOX, httpPort, { infoHash: foreign[15]!, port: 2 }, CLIENT)
  await httpAnnounce(BOX, httpPort, { infoHash: randomBytes(20), port: 1 }, CLIENT)
  t.is(tracker.stats(foreign[15]!.toString('hex'))?.leechers, 2)
  t.is(tracker.stats(foreign[16]!.toString('hex')), undefined)

  const scrape = bencode.decode((await httpGet(BOX, httpPort, '/scrape')).body).files
  t.is(Object.keys(scrape).length, 6, 'a full scrape covers the published torrent and the swarms kept')
})

test('peers are bounded per swarm and in all; beyond maxPeers the least recently announced foreign swarm goes', async (t) => {
  const { tracker, infoHash: published, udpPort } = await startTracker(t, BOX, { mode: 'open', maxSwarms: 100, maxPeers: 100, maxPeersPerSwarm: 10 })
  const socket = await udpClient(t, CLIENT)
  const announce = async (infoHash: Buffer, port: number): Promise<void> => { await udpAnnounce(socket, BOX, udpPort, { infoHash, port }) }
  for (let port = 1; port <= 30; port++) await announce(published, port)
  t.is(tracker.stats(published.toString('hex'))?.leechers, 10, 'a swarm keeps its 10 most recent peers')
  const foreign = Array.from({ length: 12 }, () => randomBytes(20))
  for (const infoHash of foreign) for (let port = 1; port <= 10; port++) await announce(infoHash, port)
  t.true(tracker.size.peers <= 100, `${tracker.size.peers} peers held`)
  t.is(tracker.stats(published.toString('hex'))?.leechers, 10, 'the published swarm keeps its peers')
  t.is(tracker.stats(foreign[0]!.toString('hex')), undefined, 'the least recently announced foreign swarm was dropped')
  t.is(tracker.stats(foreign[11]!.toString('hex'))?.leechers, 10)
  t.is(tracker.size.peers, 10 + 10 * tracker.size.foreignSwarms, 'the count matches the swarms kept')
})

test('a WebSocket frame longer than maxFrameBytes closes the connection (1009) before its payload is read', async (t) => {
  const { infoHash, httpPort } = await startTracker(t, BOX, { maxFrameBytes: 1024 })
  const socket = await openWebSocket(BOX, httpPort, '/announce', CLIENT)
  t.teardown(() => { socket.destroy() })
  const { header } = maskedFrameHeader(1024 * 1024)
  socket.write(Buffer.concat([header, randomBytes(16 * 1024)]))
  t.is(closeCode(await serverClose(socket, 10_000)), 1009)
  // A message within the bound is answered as ever.
  const answer = await webSocketExchange(BOX, httpPort, '/announce', { action: 'announce', info_hash: infoHash.toString('latin1'), peer_id: randomBytes(20).toString('latin1'), numwant: 0, offers: [], event: 'started', left: 0 })
  t.like(answer, { action: 'announce', complete: 1 })
})

test('a WebSocket that sends no first message within firstMessageMs, or then none within wsIdleMs, is closed', async (t) => {
  const { infoHash, httpPort } = await startTracker(t, BOX, { firstMessageMs: 300, wsIdleMs: 3000 })
  const silent = await openWebSocket(BOX, httpPort, '/announce', CLIENT)
  t.teardown(() => { silent.destroy() })
  await serverClose(silent, 10_000)

  const chatty = await openWebSocket(BOX, httpPort, '/announce', CLIENT)
  t.teardown(() => { chatty.destroy() })
  const closed = serverClose(chatty, 20_000)
  const announce = JSON.stringify({ action: 'announce', info_hash: infoHash.toString('latin1'), peer_id: randomBytes(20).toString('latin1'), numwant: 0, offers: [], event: 'started', left: 0 })
  // Messages more often than wsIdleMs but further apart than firstMessageMs keep it open.
  for (let message = 0; message < 3; message++) {
    chatty.write(maskedTextFrame(announce))
    await new Promise((resolve) => setTimeout(resolve, 600))
    t.false(chatty.destroyed || chatty.readableEnded, `open after message ${message + 1}`)
  }
  await closed
})

test('a client from outside the box\'s networks is handed the public everseed (router address, mapped port); a LAN client the local one', async (t) => {
  const outsiders = new Set([CLIENT])
  const { infoHash, httpPort, udpPort } = await startTracker(t, BOX, {
    publicEverseed: () => ({ ip: '203.0.113.1', port: 16881 }),
    localNetworks: { contains: (address) => !outsiders.has(address) }
  })
  t.deepEqual((await httpAnnounce(BOX, httpPort, { infoHash, port: 51413, compact: 0 }, CLIENT)).peers, ['203.0.113.1:16881'])
  const socket = await udpClient(t, CLIENT)
  t.deepEqual((await udpAnnounce(socket, BOX, udpPort, { infoHash, port: 51414 })).peers.filter((peer) => !peer.endsWith(':51413')), ['203.0.113.1:16881'])
  outsiders.clear()
  t.deepEqual((await httpAnnounce(BOX, httpPort, { infoHash, port: 51415, compact: 0 }, CLIENT)).peers.filter((peer) => !peer.startsWith(CLIENT)), [`${BOX}:${EVERSEED_PORT}`])
})

test('one swarm holds 50,000 peers announced over UDP and hands out a full numwant of distinct ones', async (t) => {
  const { tracker, infoHash, udpPort } = await startTracker(t, BOX, { maxPeers: 100_000 })
  const socket = await udpClient(t, CLIENT)
  const connectionId = await udpConnect(socket, BOX, udpPort)
  const total = 50_000
  const answered = await new Promise<number>((resolve, reject) => {
    // A window of announces in flight, each answer letting the next one go, so none is lost to a full buffer.
    let sent = 0
    let received = 0
    const timer = setTimeout(() => { reject(new Error(`only ${received} of ${total} announces answered`)) }, 120_000)
    const send = (): void => {
      if (sent < total) socket.send(udpAnnouncePacket(connectionId, { infoHash, port: 10_000 + sent++ }), udpPort, BOX)
    }
    socket.on('message', () => {
      if (++received < total) send()
      else {
        clearTimeout(timer)
        resolve(received)
      }
    })
    for (let window = 0; window < 32; window++) send()
  })
  socket.removeAllListeners('message')
  t.is(answered, total)
  t.like(tracker.stats(infoHash.toString('hex')), { leechers: total, seeders: 0 })
  t.is(tracker.size.peers, total)
  const answer = await udpAnnounce(socket, BOX, udpPort, { infoHash, port: 10_000, numwant: 1000 })
  t.is(answer.peers.length, MAX_NUMWANT)
  t.is(answer.peers[0], `${BOX}:${EVERSEED_PORT}`)
  t.is(new Set(answer.peers).size, MAX_NUMWANT, 'distinct peers')
  t.false(answer.peers.includes(`${CLIENT}:10000`), 'never the requester')
  t.like(answer, { leechers: total, seeders: 1 })
})

test('a peer that stops announcing is forgotten after two intervals, at the next announce to its swarm', async (t) => {
  let now = 1_000_000_000_000
  const { tracker, infoHash, httpPort } = await startTracker(t, BOX, { mode: 'open', now: () => now })
  const hex = infoHash.toString('hex')
  await httpAnnounce(BOX, httpPort, { infoHash, port: 1 }, CLIENT)
  now += 600_000
  await httpAnnounce(BOX, httpPort, { infoHash, port: 2 }, CLIENT)
  now += 601_000 // peer 1 is 1,201 s old, peer 2 601 s
  const answer = await httpAnnounce(BOX, httpPort, { infoHash, port: 3 }, CLIENT)
  t.deepEqual(answer.peers.filter((peer) => peer.startsWith(CLIENT)), [`${CLIENT}:2`])
  t.like(tracker.stats(hex), { leechers: 2 })
  t.is(tracker.size.peers, 2)
})

test('counts add HTTP/UDP peers and WebSocket peers of one torrent, in answers, scrapes and stats', async (t) => {
  const { tracker, infoHash, httpPort } = await startTracker(t, BOX)
  await httpAnnounce(BOX, httpPort, { infoHash, port: 1, left: 0 }, CLIENT)
  await httpAnnounce(BOX, httpPort, { infoHash, port: 2 }, CLIENT)
  const ws = await openWebSocket(BOX, httpPort, '/announce', CLIENT)
  t.teardown(() => { ws.destroy() })
  ws.write(maskedTextFrame(JSON.stringify({ action: 'announce', info_hash: infoHash.toString('latin1'), peer_id: randomBytes(20).toString('latin1'), numwant: 0, offers: [], event: 'started', left: 5 })))
  for (let wait = 0; wait < 100 && tracker.stats(infoHash.toString('hex'))!.leechers < 2; wait++) await new Promise((resolve) => setTimeout(resolve, 20))
  t.deepEqual(tracker.stats(infoHash.toString('hex')), { seeders: 1, leechers: 2, completed: 0 })
  t.like(await httpAnnounce(BOX, httpPort, { infoHash, port: 3 }, CLIENT), { complete: 2, incomplete: 3 })
  t.is(tracker.size.peers, 4)
})

test('a public everseed of the other family is left out of a UDP answer and put in peers6 over HTTP, whatever numwant', async (t) => {
  const { infoHash, httpPort, udpPort } = await startTracker(t, BOX, {
    publicEverseed: () => ({ ip: '2001:db8::1', port: 16881 }),
    localNetworks: { contains: () => false }
  })
  const socket = await udpClient(t, CLIENT)
  for (const numwant of [1, 2, 50]) {
    const udp = await udpAnnounce(socket, BOX, udpPort, { infoHash, port: 51413, numwant })
    t.like(udp, { action: 1, seeders: 1, peers: [] })
  }
  const http = await httpGet(BOX, httpPort, announcePath({ infoHash, port: 51414, numwant: 1 }), { localAddress: CLIENT })
  const decoded = bencode.decode(http.body)
  t.is(Buffer.from(decoded.peers6).toString('hex'), '20010db8000000000000000000000001' + (16881).toString(16).padStart(4, '0'))
  t.is(decoded.peers.length, 0)
})

/** A published hybrid torrent (BEP 52): its v1 infohash and its v2 one truncated to 20 bytes. */
async function publishHybrid (t: ExecutionContext, catalog: Catalog): Promise<{ torrent: PublishedTorrent, v1: Buffer, v2: Buffer }> {
  const root = tempDir(t)
  writeTree(root, { 'hybrid/a.bin': 40_000, 'hybrid/b.bin': 1000 })
  const torrent = await publish(join(root, 'hybrid'), { pieceLength: 16 * 1024, format: 'hybrid' })
  catalog.add(torrent)
  const v2 = Buffer.from(torrent.metainfo.infoHashV2!, 'hex').subarray(0, 20)
  return { torrent, v1: Buffer.from(torrent.metainfo.infoHash, 'hex'), v2 }
}

test('published-only: a hybrid is announced and scraped by its v1 infohash and its truncated v2 one, into one swarm', async (t) => {
  const { tracker, catalog, httpPort, udpPort } = await startTracker(t, BOX)
  const { torrent, v1, v2 } = await publishHybrid(t, catalog)
  const warnings: TrackerError[] = []
  tracker.on('warning', (error) => warnings.push(error))
  const events: AnnounceEvent[] = []
  tracker.on('announce', (event) => events.push(event))

  const byV1 = await httpAnnounce(BOX, httpPort, { infoHash: v1, port: 3000, event: 'started' }, CLIENT)
  t.deepEqual(byV1.peers, [`${BOX}:${EVERSEED_PORT}`])
  // A v2 announce (BEP 52) from another peer over HTTP, and from the first one again over UDP.
  const byV2 = await httpAnnounce(BOX, httpPort, { infoHash: v2, port: 3001, event: 'started', left: 0 }, CLIENT)
  t.is(byV2.failure, undefined)
  t.deepEqual(byV2.peers, [`${BOX}:${EVERSEED_PORT}`, `${CLIENT}:3000`], 'the everseed (it answers BEP 52 handshakes with the truncated v2 infohash), then the v1 peer')
  const socket = await udpClient(t, CLIENT)
  const udp = await udpAnnounce(socket, BOX, udpPort, { infoHash: v2, port: 3000 })
  t.is(udp.action, 1)
  t.deepEqual(udp.peers, [`${BOX}:${EVERSEED_PORT}`, `${CLIENT}:3001`])

  t.deepEqual(tracker.stats(torrent.metainfo.infoHash), { seeders: 1, leechers: 1, completed: 0 }, 'two peers, the one that announced both hashes once')
  t.true(events.every((event) => event.infoHash === torrent.metainfo.infoHash && event.published))
  t.deepEqual(await udpScrape(socket, BOX, udpPort, [v1, v2]), [[2, 0, 1], [2, 0, 1]], 'the everseed is a seeder under both infohashes')
  t.deepEqual(warnings, [])

  catalog.remove(torrent.metainfo.infoHash)
  t.is(tracker.stats(torrent.metainfo.infoHash), undefined)
  t.is((await httpAnnounce(BOX, httpPort, { infoHash: v2, port: 3001 }, CLIENT)).failure, UNPUBLISHED_REASON)
})
