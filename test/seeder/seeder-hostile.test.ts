import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import test, { type ExecutionContext } from 'ava'
import type { PublishedTorrent } from '../../appliance/catalog/catalog.js'
import type { Seeder } from '../../appliance/seeder/seeder.js'
import type { DisconnectReason } from '../../appliance/seeder/seeder-events.js'
import { sha256, writeTree } from '../helpers/content.js'
import { tempDir } from '../helpers/temp-dir.js'
import { contentOf, publish, writeTorrentFile } from './fixtures.js'
import { ltDownload } from './lt-download.js'
import { downloadWithWire, MESSAGE, RawPeer } from './peers.js'
import { startSeeder } from './start-seeder.js'

const KiB = 1024

/** Every reason the seeder gave for ending a connection, by the peer's local port. */
function reasons (seeder: Seeder): Map<number, DisconnectReason> {
  const byPort = new Map<number, DisconnectReason>()
  const record = (event: { address: string, reason: DisconnectReason }): void => { byPort.set(Number(event.address.split(':').at(-1)), event.reason) }
  seeder.on('peer-refused', record)
  seeder.on('peer-disconnected', record)
  return byPort
}

/** A raw peer past the handshake, interested and unchoked. */
async function unchokedPeer (port: number, torrent: PublishedTorrent, options: { fast?: boolean } = {}): Promise<RawPeer> {
  const peer = await RawPeer.connect(port)
  peer.sendHandshake(torrent.metainfo.infoHash, options)
  peer.sendMessage(MESSAGE.interested)
  await peer.waitFor((message) => message.id === MESSAGE.unchoke)
  return peer
}

async function fixture (t: ExecutionContext): Promise<{ torrent: PublishedTorrent, seeder: Seeder, ended: Map<number, DisconnectReason> }> {
  const source = tempDir(t)
  writeTree(source, { 'item/a.bin': 3 * 1024 * KiB, 'item/b.bin': 1024 * KiB + 5 })
  const torrent = await publish(join(source, 'item'), { pieceLength: 64 * KiB })
  const { seeder } = await startSeeder(t, [torrent])
  return { torrent, seeder, ended: reasons(seeder) }
}

test('hostile peers each lose their own connection while libtorrent and a plain wire download to the end', async (t) => {
  const { torrent, seeder, ended } = await fixture(t)
  const port = seeder.port
  const target = tempDir(t)
  const download = ltDownload(writeTorrentFile(torrent, tempDir(t)), target, [`127.0.0.1:${port}`])
  const wireDownload = downloadWithWire(port, torrent, 8)

  const hostile: Array<[string, DisconnectReason, () => Promise<RawPeer>]> = [
    // With encryption preferred, bytes that are not the BitTorrent handshake are taken for an MSE public key and padding.
    ['garbage handshake', 'mse-no-sync', async () => {
      const peer = await RawPeer.connect(port)
      peer.write(Buffer.concat([Buffer.from('GET /announce HTTP/1.1\r\nHost: x\r\n\r\n'), randomBytes(1000)]))
      return peer
    }],
    ['unknown infohash', 'unknown-torrent', async () => {
      const peer = await RawPeer.connect(port)
      peer.sendHandshake(randomBytes(20).toString('hex'))
      return peer
    }],
    ['request beyond the last piece', 'bad-request', async () => {
      const peer = await unchokedPeer(port, torrent)
      peer.sendMessage(MESSAGE.request, torrent.metainfo.pieceCount, 0, 16 * KiB)
      return peer
    }],
    ['request beyond the end of the last piece', 'bad-request', async () => {
      const peer = await unchokedPeer(port, torrent)
      peer.sendMessage(MESSAGE.request, torrent.metainfo.pieceCount - 1, 0, 16 * KiB)
      return peer
    }],
    ['request of 32 KiB', 'bad-request', async () => {
      const peer = await unchokedPeer(port, torrent)
      peer.sendMessage(MESSAGE.request, 0, 0, 32 * KiB)
      return peer
    }],
    ['length prefix 0x7fffffff', 'oversized-message', async () => {
      const peer = await RawPeer.connect(port)
      peer.sendHandshake(torrent.metainfo.infoHash)
      peer.write(Buffer.concat([Buffer.from([0x7f, 0xff, 0xff, 0xff, 7]), randomBytes(60_000)]))
      return peer
    }],
    ['request flood', 'request-flood', async () => {
      const peer = await unchokedPeer(port, torrent)
      peer.write(Buffer.concat(Array.from({ length: 5000 }, (_, i) => RawPeer.message(MESSAGE.request, i % (torrent.metainfo.pieceCount - 1), 0, 16 * KiB))))
      return peer
    }],
    ['HaveAll without the fast extension (BEP 6)', 'protocol-violation', async () => {
      const peer = await RawPeer.connect(port)
      peer.sendHandshake(torrent.metainfo.infoHash)
      peer.sendMessage(MESSAGE.haveAll)
      return peer
    }]
  ]
  for (const [name, reason, attack] of hostile) {
    const peer = await attack()
    t.true(await peer.closedWithin(), `${name}: the connection was closed`)
    await new Promise((resolve) => setImmediate(resolve))
    t.is(ended.get(peer.port), reason, name)
  }

  const result = await download
  t.true(result.ok, JSON.stringify(result))
  t.is(result.hash_failures, 0)
  const original = contentOf(torrent)
  const downloaded = Buffer.concat(['a.bin', 'b.bin'].map((name) => readFileSync(join(target, 'item', name))))
  t.is(sha256(downloaded), sha256(original))
  t.is(sha256(await wireDownload), sha256(original))

  // Still serving after all that.
  t.is(sha256(await downloadWithWire(port, torrent)), sha256(original))
})

test('a fast-extension peer past the request limit gets BEP 6 rejects, then is dropped if it keeps on', async (t) => {
  const { torrent, seeder, ended } = await fixture(t)
  const peer = await unchokedPeer(seeder.port, torrent, { fast: true })
  t.truthy(peer.messages.find((message) => message.id === MESSAGE.haveAll), 'BEP 6: HaveAll instead of a bitfield')
  // 600 distinct 1 KiB blocks (the wire answers duplicates only once), past the default limit of 500.
  const burst = Buffer.concat(Array.from({ length: 600 }, (_, i) => RawPeer.message(MESSAGE.request, i % 60, Math.floor(i / 60) * KiB, KiB)))
  peer.write(burst)
  // Every request is answered, by a piece or a reject.
  await peer.waitFor(() => peer.messages.filter((message) => message.id === MESSAGE.piece || message.id === MESSAGE.reject).length === 600)
  const rejects = peer.messages.filter((message) => message.id === MESSAGE.reject).length
  t.true(rejects >= 50, `${rejects} rejects`)
  t.false(peer.isClosed)
  for (let i = 0; i < 4; i++) peer.write(burst)
  t.true(await peer.closedWithin())
  await new Promise((resolve) => setImmediate(resolve))
  t.is(ended.get(peer.port), 'request-flood')
})

test('a plain peer gets a bitfield with every piece and the spare bits clear', async (t) => {
  const { torrent, seeder } = await fixture(t)
  const peer = await RawPeer.connect(seeder.port)
  peer.sendHandshake(torrent.metainfo.infoHash, { extended: true })
  const bitfield = await peer.waitFor((message) => message.id === MESSAGE.bitfield)
  const pieces = torrent.metainfo.pieceCount
  t.is(bitfield.payload.length, Math.ceil(pieces / 8))
  for (let index = 0; index < bitfield.payload.length * 8; index++) {
    const set = (bitfield.payload[index >> 3]! & (0x80 >> (index & 7))) !== 0
    t.is(set, index < pieces, `bit ${index}`)
  }
  const extended = await peer.waitFor((message) => message.id === MESSAGE.extended)
  t.is(extended.payload[0], 0, 'BEP 10 handshake')
  t.regex(extended.payload.subarray(1).toString('latin1'), /ut_metadata/)
  t.true(peer.handshake!.subarray(28, 48).equals(Buffer.from(torrent.metainfo.infoHash, 'hex')))
  peer.destroy()
})
