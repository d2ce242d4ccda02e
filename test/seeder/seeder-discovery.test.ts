import { randomBytes } from 'node:crypto'
import { createSocket, type Socket as UdpSocket } from 'node:dgram'
import { createServer as createHttpServer } from 'node:http'
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { join } from 'node:path'
import test, { type ExecutionContext } from 'ava'
import Client from 'bittorrent-tracker'
import TrackerServer from 'bittorrent-tracker/server'
import type { PublishedTorrent } from '../../appliance/catalog/catalog.js'
import type { CreateOptions } from '../../appliance/metainfo/create-torrent.js'
import { encodeLsdAnnounces, LSD_GROUP, parseLsdAnnounce, type LsdAnnounce } from '../../appliance/seeder/lsd-message.js'
import type { PeerEvent } from '../../appliance/seeder/seeder-events.js'
import { writeTree } from '../helpers/content.js'
import { tempDir } from '../helpers/temp-dir.js'
import { publish } from './fixtures.js'
import { startSeeder } from './start-seeder.js'

// Everything here stays on loopback: multicast goes out on 127.0.0.1, on a test port rather than 6771.

async function item (t: ExecutionContext, name: string, options: CreateOptions = {}): Promise<PublishedTorrent> {
  const source = tempDir(t)
  writeTree(source, { [`${name}/data.bin`]: 100_000 })
  return await publish(join(source, name), options)
}

async function udpSocket (t: ExecutionContext, port = 0): Promise<UdpSocket> {
  const socket = createSocket({ type: 'udp4', reuseAddr: true })
  t.teardown(() => socket.close())
  await new Promise<void>((resolve) => socket.bind(port, port === 0 ? '127.0.0.1' : undefined, resolve))
  return socket
}

/** A port for the LSD group no other test run uses. */
async function lsdTestPort (t: ExecutionContext): Promise<number> {
  const probe = await udpSocket(t)
  return probe.address().port
}

/**
 * A TCP listener standing in for a plaintext-only LAN peer: records the BEP 3 handshakes it receives
 * and answers them, and hangs up on anything else, as such a peer does on MSE (the seeder then dials
 * it again in plaintext).
 */
const PROTOCOL = Buffer.from('\x13BitTorrent protocol', 'latin1')

async function fakePeer (t: ExecutionContext): Promise<{ server: Server, port: number, handshakes: Array<{ infoHash: string, peerId: string }>, connected: Promise<void> }> {
  const handshakes: Array<{ infoHash: string, peerId: string }> = []
  let markConnected = (): void => {}
  const connected = new Promise<void>((resolve) => { markConnected = resolve })
  const sockets = new Set<Socket>()
  const server = createServer((socket) => {
    sockets.add(socket)
    socket.on('error', () => {})
    let buffer = Buffer.alloc(0)
    socket.on('data', (chunk: Buffer) => {
      const first = buffer.length < 68
      buffer = Buffer.concat([buffer, chunk])
      if (first && !buffer.subarray(0, 20).equals(PROTOCOL.subarray(0, Math.min(20, buffer.length)))) {
        buffer = Buffer.alloc(0)
        socket.destroy()
        return
      }
      if (!first || buffer.length < 68) return
      const infoHash = buffer.subarray(28, 48).toString('hex')
      handshakes.push({ infoHash, peerId: buffer.subarray(48, 68).toString('latin1') })
      socket.write(Buffer.concat([buffer.subarray(0, 48), Buffer.from('-XX0000-' + randomBytes(6).toString('hex'), 'latin1')]))
      markConnected()
    })
  })
  t.teardown(async () => {
    for (const socket of sockets) socket.destroy()
    await new Promise((resolve) => server.close(resolve))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { server, port: (server.address() as AddressInfo).port, handshakes, connected }
}

async function within<T> (promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms) })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

test('LSD: announces public torrents (BEP 14) on the seeder port, never private ones (BEP 27)', async (t) => {
  const [open, closed] = await Promise.all([item(t, 'open'), item(t, 'closed', { private: true })])
  const lsdPort = await lsdTestPort(t)
  const listener = await udpSocket(t, lsdPort)
  listener.addMembership(LSD_GROUP, '127.0.0.1')
  const announces: LsdAnnounce[] = []
  const heard = new Promise<void>((resolve) => listener.on('message', (message) => {
    const announce = parseLsdAnnounce(message)
    if (announce === undefined) return
    announces.push(announce)
    resolve()
  }))
  const { seeder } = await startSeeder(t, [open!, closed!], { lsd: { port: lsdPort, interfaceAddress: '127.0.0.1' } })
  await within(heard, 15_000, 'an LSD announce')
  t.is(announces[0]!.port, seeder.port)
  const announced = announces.flatMap((announce) => announce.infoHashes)
  t.true(announced.includes(open!.metainfo.infoHash))
  t.false(announced.includes(closed!.metainfo.infoHash))
})

test('LSD: a LAN peer announcing one of our torrents gets a connection from us', async (t) => {
  const torrent = await item(t, 'shared')
  const lsdPort = await lsdTestPort(t)
  const peer = await fakePeer(t)
  const { seeder } = await startSeeder(t, [torrent], { lsd: { port: lsdPort } })
  const outgoing = new Promise<PeerEvent>((resolve) => seeder.on('peer-connected', resolve))
  const sender = await udpSocket(t)
  sender.setMulticastInterface('127.0.0.1')
  const [announce] = encodeLsdAnnounces({ port: peer.port, infoHashes: [torrent.metainfo.infoHash, randomBytes(20).toString('hex')], cookie: 'a-lan-peer' }, `${LSD_GROUP}:${lsdPort}`)
  const repeat = setInterval(() => sender.send(announce!, lsdPort, LSD_GROUP), 200)
  t.teardown(() => clearInterval(repeat))
  sender.send(announce!, lsdPort, LSD_GROUP)
  await within(peer.connected, 15_000, 'the seeder connecting to the LAN peer')
  clearInterval(repeat)
  const event = await within(outgoing, 15_000, 'peer-connected')
  t.deepEqual(event, { infoHash: torrent.metainfo.infoHash, address: `127.0.0.1:${peer.port}`, direction: 'outgoing', encrypted: false })
  t.is(peer.handshakes[0]!.infoHash, torrent.metainfo.infoHash)
  t.regex(peer.handshakes[0]!.peerId, /^-ET\d{4}-/)
  await new Promise((resolve) => setTimeout(resolve, 300))
  t.is(peer.handshakes.length, 1, 'one connection however often the peer announces, none for unknown torrents')
})

test('extra trackers: the seeder announces as a seed to foreign trackers only, and dials the peers they return', async (t) => {
  const tracker = new TrackerServer({ http: false, udp: false, ws: false, stats: false })
  const http = createHttpServer((request, response) => tracker.onHttpRequest(request, response))
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  t.teardown(async () => {
    tracker.close()
    await new Promise((resolve) => http.close(resolve))
  })
  const foreign = `http://127.0.0.1:${(http.address() as AddressInfo).port}/announce`
  const own = 'http://127.0.0.1:1/announce'
  const torrent = await item(t, 'tracked', { announceList: [[own], [foreign]] })
  const { infoHash } = torrent.metainfo

  // A leecher already in the foreign swarm.
  const peer = await fakePeer(t)
  const leecher = new Client({ infoHash, peerId: randomBytes(20), announce: [foreign], port: peer.port })
  t.teardown(() => leecher.destroy())
  const leecherAnnounced = new Promise<void>((resolve) => leecher.once('update', () => resolve()))
  leecher.start()
  await within(leecherAnnounced, 15_000, 'the leecher announcing')

  const { seeder } = await startSeeder(t, [torrent], { isOwnTracker: (url) => url === own })
  const warnings: string[] = []
  seeder.on('warning', (warning) => warnings.push(warning.message))
  await within(peer.connected, 15_000, 'the seeder dialling the peer from the tracker')
  t.is(peer.handshakes[0]!.infoHash, infoHash)
  t.is(tracker.torrents[infoHash]!.complete, 1, 'the everseed counts as a seed')
  await seeder.close()
  t.is(tracker.torrents[infoHash]!.complete, 0, 'event=stopped on close')
  t.deepEqual(warnings, [])
})
