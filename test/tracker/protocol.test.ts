import test from 'ava'
import bencode from 'bencode'
import { clampNumwant, isEverseedItself, MAX_NUMWANT } from '../../appliance/tracker/announce.js'
import { compactPeers } from '../../appliance/net/compact-peers.js'
import { ConnectionIds } from '../../appliance/tracker/connection-ids.js'
import { encodeHttpAnnounceResponse, parseHttpAnnounce } from '../../appliance/tracker/http-announce.js'
import { encodeHttpScrapeResponse, parseHttpScrape } from '../../appliance/tracker/http-scrape.js'
import { normalizeAddress } from '../../appliance/net/peer-address.js'
import { encodeAnnounceResponse, encodeErrorResponse, encodeScrapeResponse, parseUdpRequest } from '../../appliance/tracker/udp-protocol.js'
import { percentEncode } from './tracker-client.js'

const infoHash = Buffer.from('8f'.repeat(20), 'hex') // bytes above 0x7f on purpose
const peerId = Buffer.from('-ET0001-\xff\xfe\x80abcdefghi', 'latin1')

function announceUrl (extra: string): string {
  return `/announce?info_hash=${percentEncode(infoHash)}&peer_id=${percentEncode(peerId)}&port=6881${extra}`
}

test('normalizeAddress turns IPv4-mapped IPv6 into IPv4 and drops zones', (t) => {
  t.is(normalizeAddress('::ffff:192.168.1.20'), '192.168.1.20')
  t.is(normalizeAddress('::FFFF:127.0.0.3'), '127.0.0.3')
  t.is(normalizeAddress('fe80::1%eth0'), 'fe80::1')
  t.is(normalizeAddress('2001:DB8::1'), '2001:db8::1')
  t.is(normalizeAddress('10.0.0.1'), '10.0.0.1')
})

test('compact peers: 6 bytes per IPv4 peer, 18 per IPv6 peer, each family on its own', (t) => {
  const peers = [{ ip: '192.168.1.20', port: 6881 }, { ip: '::1', port: 80 }, { ip: '2001:db8::ffff:1.2.3.4', port: 65535 }, { ip: 'fe80::1:2', port: 1 }]
  t.is(compactPeers(peers, 4).toString('hex'), 'c0a801141ae1')
  t.is(compactPeers(peers, 6).toString('hex'), [
    '00000000000000000000000000000001', '0050',
    '20010db8000000000000ffff01020304', 'ffff',
    'fe800000000000000000000000010002', '0001'
  ].join(''))
})

test('numwant is clamped; the everseed is recognised by its port from this host only', (t) => {
  const everseed = { ip: '192.168.1.20', port: 6881 }
  t.true(isEverseedItself({ ip: '127.0.0.1', port: 6881 }, everseed))
  t.true(isEverseedItself({ ip: '192.168.1.20', port: 6881 }, everseed))
  t.false(isEverseedItself({ ip: '192.168.1.21', port: 6881 }, everseed))
  t.is(clampNumwant(undefined), 50)
  t.is(clampNumwant(1_000_000), MAX_NUMWANT)
})

test('the seeder announcing to its own tracker is recognised as the everseed', (t) => {
  const everseed = { ip: '192.168.1.20', port: 6881 }
  t.true(isEverseedItself({ ip: '192.168.1.20', port: 6881 }, everseed))
  t.true(isEverseedItself({ ip: '127.0.0.1', port: 6881 }, everseed))
  t.true(isEverseedItself({ ip: '::1', port: 6881 }, everseed))
  t.false(isEverseedItself({ ip: '192.168.1.21', port: 6881 }, everseed))
  t.false(isEverseedItself({ ip: '127.0.0.1', port: 6882 }, everseed))
})

test('HTTP announce: binary info_hash and peer_id are read byte for byte', (t) => {
  const request = parseHttpAnnounce(announceUrl('&left=0&event=completed&numwant=5&compact=0&no_peer_id=1&ip=6.6.6.6'))
  t.like(request, { infoHash: infoHash.toString('hex'), peerId, port: 6881, left: 0, event: 'completed', numwant: 5, compact: false, noPeerId: true })
  t.like(parseHttpAnnounce(announceUrl('')), { left: Infinity, event: 'update', numwant: 50, compact: true })
  t.is(parseHttpAnnounce(announceUrl('&numwant=99999999')).numwant, MAX_NUMWANT)
})

test('HTTP announce: malformed requests are ET_BAD_REQUEST', (t) => {
  const bad = [
    '/announce',
    `/announce?peer_id=${percentEncode(peerId)}&port=1`,
    `/announce?info_hash=${percentEncode(infoHash.subarray(1))}&peer_id=${percentEncode(peerId)}&port=1`,
    `/announce?info_hash=${percentEncode(infoHash)}&info_hash=${percentEncode(infoHash)}&peer_id=${percentEncode(peerId)}&port=1`,
    `/announce?info_hash=${percentEncode(infoHash)}&peer_id=${percentEncode(peerId)}`,
    announceUrl('&port=70000'),
    announceUrl('&event=exploded'),
    announceUrl('&numwant=-1'),
    announceUrl('&left=lots')
  ]
  for (const url of bad) t.throws(() => parseHttpAnnounce(url), { code: 'ET_BAD_REQUEST' as never }, url)
})

test('HTTP announce response: compact IPv4 in peers, IPv6 in peers6 (BEP 7); non-compact keeps binary peer ids', (t) => {
  const peers = [{ ip: '127.0.0.3', port: 6881 }, { ip: '::1', port: 6882, peerId: peerId.toString('hex') }]
  const response = { interval: 600, complete: 1, incomplete: 2, peers }
  const compact = bencode.decode(encodeHttpAnnounceResponse(parseHttpAnnounce(announceUrl('')), response))
  t.is(Buffer.from(compact.peers).toString('hex'), '7f0000031ae1')
  t.is(Buffer.from(compact.peers6).toString('hex'), `${'0'.repeat(31)}11ae2`)
  const full = bencode.decode(encodeHttpAnnounceResponse(parseHttpAnnounce(announceUrl('&compact=0')), response))
  t.is(full.peers.length, 2)
  t.is(full.peers[0]['peer id'], undefined, 'the everseed has no known peer id')
  t.deepEqual(Buffer.from(full.peers[1]['peer id']), peerId)
  t.is(Buffer.from(full.peers[1].ip).toString(), '::1')
})

test('HTTP scrape: binary infohash keys survive encoding, sorted as bytes', (t) => {
  const low = '01'.repeat(20)
  t.deepEqual(parseHttpScrape(`/scrape?info_hash=${percentEncode(infoHash)}&info_hash=${percentEncode(infoHash)}`), [infoHash.toString('hex')])
  const body = encodeHttpScrapeResponse([
    { infoHash: infoHash.toString('hex'), complete: 3, downloaded: 2, incomplete: 1 },
    { infoHash: low, complete: 1, downloaded: 0, incomplete: 0 }
  ])
  t.true(body.toString('latin1').indexOf(Buffer.from(low, 'hex').toString('latin1')) < body.toString('latin1').indexOf(infoHash.toString('latin1')))
  const files = bencode.decode(body).files
  t.deepEqual(Object.keys(files).length, 2)
  t.throws(() => parseHttpScrape('/scrape?info_hash=abc'), { code: 'ET_BAD_REQUEST' as never })
})

test('UDP: connect, announce and scrape requests are parsed; garbage is ET_BAD_REQUEST', (t) => {
  const connect = Buffer.alloc(16)
  connect.writeBigUInt64BE(0x41727101980n, 0)
  connect.writeUInt32BE(0, 8)
  connect.writeUInt32BE(7, 12)
  t.deepEqual(parseUdpRequest(connect), { action: 'connect', transactionId: 7 })

  const announce = Buffer.alloc(98)
  announce.write('0102030405060708', 0, 'hex')
  announce.writeUInt32BE(1, 8)
  announce.writeUInt32BE(9, 12)
  infoHash.copy(announce, 16)
  peerId.copy(announce, 36)
  announce.writeBigUInt64BE(12345n, 64)
  announce.writeUInt32BE(2, 80)
  announce.writeInt32BE(-1, 92)
  announce.writeUInt16BE(6881, 96)
  t.like(parseUdpRequest(announce), { action: 'announce', transactionId: 9, infoHash: infoHash.toString('hex'), peerId: peerId.toString('hex'), left: 12345, event: 'started', numwant: undefined, port: 6881 })

  const scrape = Buffer.concat([announce.subarray(0, 16), infoHash, infoHash])
  scrape.writeUInt32BE(2, 8)
  t.like(parseUdpRequest(scrape), { action: 'scrape', infoHashes: [infoHash.toString('hex'), infoHash.toString('hex')] })

  const garbage = [
    Buffer.alloc(0),
    Buffer.from('hello'),
    Buffer.alloc(16), // connect without the protocol id
    announce.subarray(0, 97),
    Buffer.concat([scrape, Buffer.from('x')]),
    Buffer.concat([announce.subarray(0, 8), Buffer.from([0, 0, 0, 9]), Buffer.alloc(4)])
  ]
  const badEvent = Buffer.from(announce)
  badEvent.writeUInt32BE(9, 80)
  const noPort = Buffer.from(announce)
  noPort.writeUInt16BE(0, 96)
  for (const packet of [...garbage, badEvent, noPort]) t.throws(() => parseUdpRequest(packet), { code: 'ET_BAD_REQUEST' as never })
})

test('UDP: responses have the BEP 15 layout', (t) => {
  const announce = encodeAnnounceResponse({ transactionId: 9, interval: 600, leechers: 2, seeders: 3, peers: Buffer.from('7f0000031ae1', 'hex') })
  t.is(announce.toString('hex'), '00000001' + '00000009' + '00000258' + '00000002' + '00000003' + '7f0000031ae1')
  t.is(encodeScrapeResponse(4, [{ seeders: 1, completed: 2, leechers: 3 }]).toString('hex'), '00000002' + '00000004' + '00000001' + '00000002' + '00000003')
  t.is(encodeErrorResponse(5, 'no').toString('hex'), '00000003' + '00000005' + Buffer.from('no').toString('hex'))
})

test('BEP 15 connection ids: bound to address and port, accepted for two minutes', (t) => {
  let now = 1_000_000
  const ids = new ConnectionIds({ now: () => now })
  const id = ids.issue('127.0.0.2', 5000)
  t.true(ids.verify(id, '127.0.0.2', 5000))
  t.false(ids.verify(id, '127.0.0.2', 5001))
  t.false(ids.verify(id, '127.0.0.9', 5000))
  t.false(ids.verify(Buffer.alloc(8), '127.0.0.2', 5000))
  now += 60_000
  t.true(ids.verify(id, '127.0.0.2', 5000))
  now += 60_000
  t.false(ids.verify(id, '127.0.0.2', 5000))
})
