import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import test, { type ExecutionContext } from 'ava'
import { SwarmServer, type AcceptedAnnounce, type SwarmAnnounce, type SwarmServerOptions, type TrackedSwarm } from '../../appliance/tracker/swarm-server.js'
import { eventually } from '../hardware/eventually.js'
import { closeCode, maskedFrameHeader, maskedTextFrame, openWebSocket, serverClose, webSocketExchange } from '../tracker/tracker-client.js'

// The behaviour of bittorrent-tracker's server that appliance/tracker/swarm-server.ts relies on,
// each test named after it, driven through SwarmServer: an upgrade that changes one fails here.

const HOST = '127.0.0.1'

interface Started {
  readonly server: SwarmServer
  readonly port: number
  readonly announces: Array<{ swarm: TrackedSwarm, announce: AcceptedAnnounce }>
  readonly warnings: Error[]
}

/** A SwarmServer taking WebSocket upgrades from a plain HTTP server on 127.0.0.1, both closed when the test ends. */
async function start (t: ExecutionContext, options: Partial<SwarmServerOptions> = {}): Promise<Started> {
  const announces: Started['announces'] = []
  const warnings: Error[] = []
  const server = new SwarmServer({
    intervalMs: 600_000,
    maxPeersPerSwarm: 1000,
    maxFrameBytes: 32 * 1024,
    refusal: () => undefined,
    onAnnounce: (swarm, announce) => { announces.push({ swarm, announce }) },
    onWarning: (error) => { warnings.push(error) },
    onError: (error) => { t.fail(`the WebSocket server failed: ${error.message}`) },
    ...options
  })
  const http = createServer()
  http.on('upgrade', (req, socket, head) => { server.acceptWebSocket(req, socket, head, () => true) })
  http.listen(0, HOST)
  await once(http, 'listening')
  t.teardown(async () => {
    http.closeAllConnections()
    await new Promise((resolve) => http.close(resolve))
    await server.close()
  })
  return { server, port: (http.address() as AddressInfo).port, announces, warnings }
}

function infoHash (): Buffer {
  return randomBytes(20)
}

/** A WebTorrent announce, as browsers send it (binary strings for the hashes). */
function webSocketAnnounce (hash: Buffer, fields: { event: string, left: number, peerId?: Buffer }): Record<string, unknown> {
  return { action: 'announce', info_hash: hash.toString('latin1'), peer_id: (fields.peerId ?? randomBytes(20)).toString('latin1'), numwant: 0, offers: [], event: fields.event, left: fields.left }
}

function httpAnnounce (port: number, fields: Partial<SwarmAnnounce> = {}): SwarmAnnounce {
  return { transport: 'http', event: 'started', peerId: randomBytes(20).toString('hex'), peer: { ip: '10.0.0.1', port }, left: 1000, numwant: 50, ...fields }
}

test('createSwarm: the swarm made for a WebSocket announce is ours: the announce is reported with it, and it is the one the server holds', async (t) => {
  const { server, port, announces } = await start(t)
  const hash = infoHash()
  t.like(await webSocketExchange(HOST, port, '/', webSocketAnnounce(hash, { event: 'started', left: 0 })), { action: 'announce', complete: 1 })
  const held = server.get(hash.toString('hex'))
  if (held === undefined) return t.fail('no swarm held')
  t.is(announces.length, 1, 'the announce was reported')
  t.is(announces[0]?.swarm, held)
  t.true(server.holds(held))
  t.like(announces[0]!.announce, { transport: 'ws', event: 'started', left: 0 })
})

test('filter: a refused WebSocket announce gets the refusal as its failure reason, and no swarm is made', async (t) => {
  const refused = infoHash()
  const { server, port, announces } = await start(t, { refusal: (hash) => hash === refused.toString('hex') ? new Error('not tracked here') : undefined })
  t.like(await webSocketExchange(HOST, port, '/', webSocketAnnounce(refused, { event: 'started', left: 0 })), { 'failure reason': 'not tracked here' })
  t.deepEqual(server.infoHashes(), [])
  t.is(announces.length, 0)
})

test('drop: a dropped swarm is forgotten with its peers, by our code and the server\'s own WebSocket path alike', async (t) => {
  const { server, port } = await start(t)
  const hash = infoHash()
  const swarm = server.swarm(hash.toString('hex'))
  await swarm.record(httpAnnounce(6881))
  server.drop(hash.toString('hex'))
  t.false(server.holds(swarm))
  t.is(server.get(hash.toString('hex')), undefined)
  t.deepEqual(server.infoHashes(), [])
  t.like(await webSocketExchange(HOST, port, '/', webSocketAnnounce(hash, { event: 'started', left: 0 })), { complete: 1, incomplete: 0 })
  const again = server.get(hash.toString('hex'))
  t.not(again, swarm, 'a new swarm')
})

test('swarm peers: one per address and port, handed out as { peerId, ip, port } to HTTP and UDP announces, never a WebSocket peer', async (t) => {
  const { server, port } = await start(t)
  const hash = infoHash()
  const swarm = server.swarm(hash.toString('hex'))
  const browser = await openWebSocket(HOST, port, '/')
  t.teardown(() => { browser.destroy() })
  browser.write(maskedTextFrame(JSON.stringify(webSocketAnnounce(hash, { event: 'started', left: 100 }))))
  await eventually(t, () => swarm.peerCount, 1, 'the WebSocket peer joined')
  const first = httpAnnounce(6881)
  await swarm.record(first)
  await swarm.record({ ...first, event: 'update' })
  const second = httpAnnounce(6882, { transport: 'udp', peer: { ip: '2001:db8::7', port: 6882 } })
  const answer = await swarm.record(second)
  t.is(swarm.peerCount, 3, 'the WebSocket peer and two others, the first counted once')
  const handedOut = answer.peers.map(({ peerId, ip, port }) => ({ peerId, ip, port })).sort((a, b) => a.port - b.port)
  t.deepEqual(handedOut, [
    { peerId: first.peerId, ...first.peer },
    { peerId: second.peerId, ...second.peer }
  ])
})

test('counts: seeders in complete, leechers in incomplete; completed makes a leecher a seeder and is counted; stopped removes the peer', async (t) => {
  const { server } = await start(t)
  const swarm = server.swarm(infoHash().toString('hex'))
  const leecher = httpAnnounce(6881, { left: 1000 })
  const seeder = httpAnnounce(6882, { left: 0 })
  await swarm.record(leecher)
  await swarm.record(seeder)
  t.like(swarm, { complete: 1, incomplete: 1, completed: 0, peerCount: 2 })
  await swarm.record({ ...leecher, event: 'completed', left: 0 })
  t.like(swarm, { complete: 2, incomplete: 0, completed: 1, peerCount: 2 })
  await swarm.record({ ...seeder, event: 'stopped' })
  t.like(swarm, { complete: 1, incomplete: 0, completed: 1, peerCount: 1 })
})

test('peersCacheLength: a swarm holds at most maxPeersPerSwarm peers, forgetting the least recently announced, and its counts follow', async (t) => {
  const { server } = await start(t, { maxPeersPerSwarm: 3 })
  const swarm = server.swarm(infoHash().toString('hex'))
  const peers = [6881, 6882, 6883, 6884, 6885].map((port) => httpAnnounce(port))
  for (const peer of [peers[0]!, peers[1]!, peers[2]!]) await swarm.record(peer)
  await swarm.record({ ...peers[0]!, event: 'update' })
  await swarm.record(peers[3]!)
  const answer = await swarm.record(peers[4]!)
  t.like(swarm, { peerCount: 3, incomplete: 3 })
  t.deepEqual(answer.peers.map((peer) => peer.port).sort(), [6881, 6884, 6885])
})

test('ws maxPayload: a WebSocket message longer than maxFrameBytes closes the connection (1009) before it is read', async (t) => {
  const { port, announces } = await start(t, { maxFrameBytes: 1024 })
  const socket = await openWebSocket(HOST, port, '/')
  t.teardown(() => { socket.destroy() })
  const { header } = maskedFrameHeader(1024 * 1024)
  socket.write(Buffer.concat([header, randomBytes(16 * 1024)]))
  t.is(closeCode(await serverClose(socket, 10_000)), 1009)
  t.is(announces.length, 0)
})

test('a WebSocket closing after its announce is reported as a stopped announce without an address, and leaves the swarm', async (t) => {
  const { server, port, announces } = await start(t)
  const hash = infoHash()
  const browser = await openWebSocket(HOST, port, '/')
  t.teardown(() => { browser.destroy() })
  browser.write(maskedTextFrame(JSON.stringify(webSocketAnnounce(hash, { event: 'started', left: 100 }))))
  await eventually(t, () => announces.length, 1, 'the announce was reported')
  t.like(announces[0]!.announce, { transport: 'ws', event: 'started', peer: { ip: HOST }, left: 100 })
  browser.destroy()
  await eventually(t, () => announces.length, 2, 'the goodbye was reported')
  t.deepEqual(announces[1]!.announce, { transport: 'ws', event: 'stopped', peer: undefined, left: Infinity })
  t.is(server.get(hash.toString('hex'))?.peerCount, 0)
})

test('warnings: a malformed WebSocket message gets a failure reason and is reported as a warning', async (t) => {
  const { port, warnings } = await start(t)
  const answer = await webSocketExchange(HOST, port, '/', { action: 'announce', info_hash: 'short' })
  t.truthy((answer as Record<string, unknown>)['failure reason'])
  t.is(warnings.length, 1)
})
