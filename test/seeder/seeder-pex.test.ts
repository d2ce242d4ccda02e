import { randomBytes } from 'node:crypto'
import { createServer, type AddressInfo, type Socket } from 'node:net'
import { join } from 'node:path'
import test, { type ExecutionContext } from 'ava'
import type { PublishedTorrent } from '../../appliance/catalog/catalog.js'
import { PEX_INTERVAL_MS } from '../../appliance/seeder/pex-feed.js'
import { PEX_FLAG } from '../../appliance/seeder/pex-message.js'
import type { SeederOptions } from '../../appliance/seeder/seeder-options.js'
import { writeTree } from '../helpers/content.js'
import { tempDir } from '../helpers/temp-dir.js'
import { eventually } from '../hardware/eventually.js'
import { publish } from './fixtures.js'
import type { RawPeer } from './peers.js'
import { answerAsPexPeer, pexMessages, pexPeer, seederExtensions } from './pex-peers.js'
import { startSeeder } from './start-seeder.js'

/** Long enough for a PEX pass the seeder runs on the next turn of its event loop to have gone out. */
const QUIET_MS = 300

async function torrents (t: ExecutionContext, count: number, options: { private?: boolean } = {}): Promise<PublishedTorrent[]> {
  const source = tempDir(t)
  const names = Array.from({ length: count }, (_, index) => `item-${index}.bin`)
  writeTree(source, Object.fromEntries(names.map((name) => [name, 256 * 1024])))
  return await Promise.all(names.map(async (name) => await publish(join(source, name), { pieceLength: 64 * 1024, ...(options.private === true && { private: true }) })))
}

/** A seeder whose clock the test moves on with `advance`. */
async function seederWithClock (t: ExecutionContext, published: PublishedTorrent[], options: Partial<SeederOptions> = {}): Promise<{ port: number, advance: (ms: number) => void, stats: () => { messagesSent: number, peersAdvertised: number }, dial: (infoHash: string, ip: string, port: number) => void }> {
  let offset = 0
  const { seeder } = await startSeeder(t, published, { now: () => performance.now() + offset, ...options })
  return { port: seeder.port, advance: (ms) => { offset += ms }, stats: () => seeder.stats().pex, dial: (infoHash, ip, port) => seeder.connectTo(infoHash, { ip, port }) }
}

async function joined (t: ExecutionContext, peer: RawPeer): Promise<void> {
  await eventually(t, () => seederExtensions(peer) !== undefined, true, 'the seeder sent its extended handshake')
}

test('peers of a torrent hear of each other at the address they listen on, never of themselves; the first message at once, then one a minute, with who left in dropped', async (t) => {
  const [torrent] = await torrents(t, 1)
  const { port, advance, stats } = await seederWithClock(t, [torrent!])
  const infoHash = torrent!.metainfo.infoHash
  const a = await pexPeer(port, infoHash, { localAddress: '127.0.0.2', listenPort: 40002, prefersEncryption: true })
  await joined(t, a)
  t.true(seederExtensions(a)!.ut_pex! > 0, 'ut_pex is in the seeder\'s m dictionary')
  const b = await pexPeer(port, infoHash, { localAddress: '127.0.0.3', listenPort: 40003 })
  await eventually(t, () => pexMessages(b).length, 1, 'the newcomer hears at once')
  t.deepEqual(pexMessages(b)[0], { added: ['127.0.0.2:40002'], flags: [PEX_FLAG.prefersEncryption], dropped: [], added6: [], dropped6: [] })
  await eventually(t, () => pexMessages(a).length, 1, 'so does the first peer: its first message')
  t.deepEqual(pexMessages(a)[0]!.added, ['127.0.0.3:40003'])

  const noPort = await pexPeer(port, infoHash, { localAddress: '127.0.0.4' })
  await eventually(t, () => pexMessages(noPort).length, 1, 'a peer without a listen port is told')
  t.deepEqual(pexMessages(noPort)[0]!.added.sort(), ['127.0.0.2:40002', '127.0.0.3:40003'])
  b.destroy()
  const c = await pexPeer(port, infoHash, { localAddress: '127.0.0.5', listenPort: 40005 })
  await eventually(t, () => pexMessages(c).length, 1, 'another newcomer hears at once')
  t.deepEqual(pexMessages(c)[0]!.added, ['127.0.0.2:40002'], 'of the peers still there that listen')
  await new Promise((resolve) => setTimeout(resolve, QUIET_MS))
  t.is(pexMessages(a).length, 1, 'a heard nothing new within its minute')

  advance(PEX_INTERVAL_MS)
  const d = await pexPeer(port, infoHash, { localAddress: '127.0.0.6', listenPort: 40006 })
  await eventually(t, () => pexMessages(a).length, 2, 'a minute on, a hears what changed')
  t.deepEqual(pexMessages(a)[1], { added: ['127.0.0.5:40005', '127.0.0.6:40006'], flags: [0, 0], dropped: ['127.0.0.3:40003'], added6: [], dropped6: [] })
  t.false(pexMessages(a).some((message) => message.added.some((address) => address.startsWith('127.0.0.4:'))), 'the peer without a listen port is never advertised')
  for (const peer of [a, noPort, c, d]) t.false(pexMessages(peer).some((message) => message.added.some((address) => address.startsWith(`${peer.socket.localAddress!}:`))), 'never a peer to itself')
  t.true(stats().messagesSent >= 6)
  t.true(stats().peersAdvertised >= 9)
})

test('a peer the seeder dialled is advertised at the address dialled, flagged reachable', async (t) => {
  const [torrent] = await torrents(t, 1)
  const { port, dial } = await seederWithClock(t, [torrent!])
  const infoHash = torrent!.metainfo.infoHash
  const sockets = new Set<Socket>()
  // The seeder dials in MSE first, which this plaintext peer hangs up on, then in plaintext.
  let answered = 0
  const server = createServer((socket) => {
    sockets.add(socket)
    socket.on('error', () => {})
    answerAsPexPeer(socket, infoHash, Buffer.from('-XX0000-' + randomBytes(6).toString('hex'), 'latin1'), () => { answered++ })
  })
  t.teardown(() => { for (const socket of sockets) socket.destroy(); server.close() })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.7', resolve))
  const listening = (server.address() as AddressInfo).port
  dial(infoHash, '127.0.0.7', listening)
  await eventually(t, () => answered, 1, 'the seeder dialled in plaintext and was answered', 10_000)
  await new Promise((resolve) => setTimeout(resolve, QUIET_MS))
  const a = await pexPeer(port, infoHash, { localAddress: '127.0.0.2', listenPort: 40002 })
  await eventually(t, () => pexMessages(a).length, 1, 'the newcomer hears of the dialled peer')
  t.deepEqual(pexMessages(a)[0], { added: [`127.0.0.7:${listening}`], flags: [PEX_FLAG.reachable], dropped: [], added6: [], dropped6: [] })
})

test('IPv6 peers are named in added6 and dropped6, IPv4 ones in added and dropped', async (t) => {
  const [torrent] = await torrents(t, 1)
  const { port, advance } = await seederWithClock(t, [torrent!], { host: '::' })
  const infoHash = torrent!.metainfo.infoHash
  const v6 = await pexPeer(port, infoHash, { localAddress: '::1', listenPort: 40006, seederHost: '::1' })
  const v4 = await pexPeer(port, infoHash, { localAddress: '127.0.0.2', listenPort: 40004 })
  await eventually(t, () => pexMessages(v4).length, 1, 'the IPv4 peer hears of the IPv6 one')
  t.deepEqual(pexMessages(v4)[0], { added: [], flags: [], dropped: [], added6: ['[0:0:0:0:0:0:0:1]:40006'], dropped6: [] })
  await eventually(t, () => pexMessages(v6).length, 1, 'and the other way round')
  t.deepEqual(pexMessages(v6)[0]!.added, ['127.0.0.2:40004'], 'an IPv4 peer reaching a dual-stack socket is named as IPv4')
  v6.destroy()
  advance(PEX_INTERVAL_MS)
  const newcomer = await pexPeer(port, infoHash, { localAddress: '127.0.0.3', listenPort: 40003 })
  await eventually(t, () => pexMessages(v4).length, 2, 'a minute on')
  t.deepEqual(pexMessages(v4)[1], { added: ['127.0.0.3:40003'], flags: [0], dropped: [], added6: [], dropped6: ['[0:0:0:0:0:0:0:1]:40006'] })
  newcomer.destroy()
})

test('peers of another torrent are never named', async (t) => {
  const [one, two] = await torrents(t, 2)
  const { port } = await seederWithClock(t, [one!, two!])
  const a = await pexPeer(port, one!.metainfo.infoHash, { localAddress: '127.0.0.2', listenPort: 40002 })
  const other = await pexPeer(port, two!.metainfo.infoHash, { localAddress: '127.0.0.3', listenPort: 40003 })
  await joined(t, other)
  const b = await pexPeer(port, one!.metainfo.infoHash, { localAddress: '127.0.0.4', listenPort: 40004 })
  await eventually(t, () => pexMessages(b).length, 1, 'b hears of a')
  await new Promise((resolve) => setTimeout(resolve, QUIET_MS))
  t.deepEqual(pexMessages(b).flatMap((message) => message.added), ['127.0.0.2:40002'])
  t.deepEqual(pexMessages(a).flatMap((message) => message.added), ['127.0.0.4:40004'])
  t.deepEqual(pexMessages(other), [], 'alone in its swarm')
})

test('no PEX for a private torrent (BEP 27) nor with pex off: ut_pex is not offered and nothing is sent', async (t) => {
  const cases: Array<[string, PublishedTorrent, Partial<SeederOptions>]> = [
    ['private torrent', (await torrents(t, 1, { private: true }))[0]!, {}],
    ['seeder.pex = false', (await torrents(t, 1))[0]!, { pex: false }]
  ]
  for (const [label, torrent, options] of cases) {
    const { port, stats } = await seederWithClock(t, [torrent], options)
    const peers = [await pexPeer(port, torrent.metainfo.infoHash, { localAddress: '127.0.0.2', listenPort: 40002 })]
    peers.push(await pexPeer(port, torrent.metainfo.infoHash, { localAddress: '127.0.0.3', listenPort: 40003 }))
    for (const peer of peers) await joined(t, peer)
    await new Promise((resolve) => setTimeout(resolve, QUIET_MS))
    for (const peer of peers) {
      t.false('ut_pex' in seederExtensions(peer)!, `${label}: ut_pex not offered`)
      t.deepEqual(pexMessages(peer), [], `${label}: no PEX message`)
    }
    t.deepEqual(stats(), { messagesSent: 0, peersAdvertised: 0 })
  }
})
