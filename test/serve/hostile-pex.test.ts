import test, { type ExecutionContext } from 'ava'
import bencode from 'bencode'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { sha256, writeTree } from '../helpers/content.js'
import { ServeProcess } from '../helpers/serve-process.js'
import { tempDir } from '../helpers/temp-dir.js'
import { eventually } from '../hardware/eventually.js'
import { ltDownload } from '../seeder/lt-download.js'
import { MESSAGE, RawPeer } from '../seeder/peers.js'
import { extendedMessage, pexMessages, pexPeer, seederExtensions } from '../seeder/pex-peers.js'

const MiB = 1024 * 1024

/** Compact IPv4 entries, 6 bytes each. */
function compactEntries (count: number): Buffer {
  const bytes = Buffer.alloc(count * 6)
  for (let i = 0; i < count; i++) bytes.writeUInt32BE(0x0a000000 + i, i * 6)
  return bytes
}

/** ut_pex payloads a hostile peer sends: malformed bencode, huge lists, wrong types, many at once. */
const HOSTILE_PAYLOADS: ReadonlyArray<[string, Uint8Array]> = [
  ['truncated bencode', Buffer.from('d5:added')],
  ['not bencode', Buffer.from('\xff\x00garbage', 'latin1')],
  ['an empty payload', Buffer.alloc(0)],
  ['a list, not a dictionary', bencode.encode([1, 2, 3])],
  ['wrong types', bencode.encode({ added: 42, 'added.f': { x: 1 }, dropped: [1, 2], added6: -1, dropped6: { a: 'b' } })],
  ['a length that is no multiple of 6', bencode.encode({ added: Buffer.alloc(7), 'added.f': Buffer.alloc(1) })],
  ['8,000 added peers, 56 KB: just under the 64 KiB frame limit', bencode.encode({ added: compactEntries(8000), 'added.f': Buffer.alloc(8000) })],
  ['3,000 added6 and 3,000 dropped6', bencode.encode({ added6: Buffer.alloc(18 * 1500), dropped6: Buffer.alloc(18 * 1500) })],
  ['deeply nested lists', Buffer.from('l'.repeat(20_000) + 'e'.repeat(20_000))]
]

/** Extended handshakes of the wrong shape: the seeder must not take them for PEX support or a listen port. */
const HOSTILE_HANDSHAKES: ReadonlyArray<[string, Uint8Array | Record<string, unknown>]> = [
  ['ut_pex id 300 and p as bytes', { m: { ut_pex: 300 }, p: Buffer.from('6881') }],
  ['m as a list', { m: [1, 2], p: -5 }],
  ['an integer', Buffer.from('i5e')],
  ['garbage', Buffer.from('d1:m')]
]

async function hostilePeer (t: ExecutionContext, port: number, infoHash: string, localAddress: string): Promise<{ peer: RawPeer, ourId: number }> {
  const peer = await pexPeer(port, infoHash, { localAddress })
  t.teardown(() => peer.destroy())
  await eventually(t, () => seederExtensions(peer) !== undefined, true, 'the seeder sent its extended handshake')
  return { peer, ourId: seederExtensions(peer)!.ut_pex! }
}

test('hostile ut_pex messages and extended handshakes are ignored, an oversized one ends its connection; serve, a libtorrent download and well-behaved PEX peers go on', async (t) => {
  t.timeout(3 * 60_000)
  const root = tempDir(t)
  const library = join(root, 'library')
  const written = writeTree(library, { 'film.bin': 4 * MiB })
  const serve = await ServeProcess.start(t, { libraries: [library], stateDir: join(root, 'state') })
  const film = await serve.waitFor((line) => line.msg === 'published')
  const infoHash = film.infohash!
  const port = serve.peerPort
  const download = ltDownload(`magnet:?xt=urn:btih:${infoHash}`, join(root, 'download'), [`127.0.0.1:${port}`], 120)

  const { peer: ignored, ourId } = await hostilePeer(t, port, infoHash, '127.0.0.2')
  t.true(ourId > 0, 'the seeder offers ut_pex')
  for (const [, payload] of HOSTILE_PAYLOADS) ignored.write(extendedMessage(ourId, payload))
  // 200 more at once: far more often than the once a minute BEP 11 allows; a seed has no use for them.
  for (let i = 0; i < 200; i++) ignored.write(extendedMessage(ourId, HOSTILE_PAYLOADS[6]![1]))
  for (const [, handshake] of HOSTILE_HANDSHAKES) ignored.write(extendedMessage(0, handshake))
  ignored.sendMessage(MESSAGE.interested)
  await ignored.waitFor((message) => message.id === MESSAGE.unchoke, 30_000)
  t.false(ignored.isClosed, 'the peer that sent them is still served: they were ignored')

  const { peer: oversized, ourId: id } = await hostilePeer(t, port, infoHash, '127.0.0.3')
  oversized.write(extendedMessage(id, Buffer.alloc(70 * 1024)))
  t.true(await oversized.closedWithin(15_000), 'a ut_pex message beyond the 64 KiB frame limit ends its connection')

  const a = await pexPeer(port, infoHash, { localAddress: '127.0.0.4', listenPort: 40004 })
  const b = await pexPeer(port, infoHash, { localAddress: '127.0.0.5', listenPort: 40005 })
  t.teardown(() => { a.destroy(); b.destroy() })
  await eventually(t, () => pexMessages(b).some((message) => message.added.includes('127.0.0.4:40004')), true, 'well-behaved peers still hear of each other')
  await eventually(t, () => pexMessages(a).some((message) => message.added.includes('127.0.0.5:40005')), true, 'both ways')
  const advertised = [...pexMessages(a), ...pexMessages(b)].flatMap((message) => message.added)
  t.false(advertised.some((address) => address.startsWith('127.0.0.2:') || address.startsWith('127.0.0.3:')), `hostile peers gave no valid listen port and are never advertised: ${advertised.join(' ')}`)

  const result = await download
  t.true(result.ok, 'libtorrent completed its download meanwhile')
  t.is(sha256(await readFile(join(root, 'download', 'film.bin'))), sha256(written.get('film.bin')!))
  t.true(serve.running)
  t.is(await serve.stop(), 0)
})
