import test from 'ava'
import bencode from 'bencode'
import { encodePexMessage, MAX_PEX_ADDED, MAX_PEX_DROPPED, PEX_FLAG, type PexPeer } from '../../appliance/seeder/pex-message.js'

function decoded (payload: Uint8Array): Record<string, Buffer> {
  const dictionary = bencode.decode(payload) as Record<string, Uint8Array>
  return Object.fromEntries(Object.entries(dictionary).map(([key, value]) => [key, Buffer.from(value)]))
}

const v4 = (last: number, port = 6881): PexPeer => ({ address: { ip: `10.0.0.${last}`, port }, flags: 0 })

test('IPv4 peers are compact (4 address bytes, 2 port bytes, big-endian) in added, one flags byte each in added.f, in order', (t) => {
  const message = decoded(encodePexMessage({
    added: [
      { address: { ip: '192.168.1.20', port: 51413 }, flags: PEX_FLAG.prefersEncryption | PEX_FLAG.reachable },
      { address: { ip: '10.1.2.3', port: 6881 }, flags: PEX_FLAG.seed }
    ],
    dropped: [{ ip: '172.16.0.9', port: 443 }]
  }))
  t.deepEqual(message.added, Buffer.from([192, 168, 1, 20, 0xc8, 0xd5, 10, 1, 2, 3, 0x1a, 0xe1]))
  t.deepEqual(message['added.f'], Buffer.from([0x11, 0x02]))
  t.deepEqual(message.dropped, Buffer.from([172, 16, 0, 9, 0x01, 0xbb]))
  t.deepEqual(message.added6, Buffer.alloc(0))
  t.deepEqual(message['added6.f'], Buffer.alloc(0))
  t.deepEqual(message.dropped6, Buffer.alloc(0))
})

test('IPv6 peers go to added6, added6.f and dropped6 (16 address bytes, 2 port bytes), IPv4 ones stay apart', (t) => {
  const message = decoded(encodePexMessage({
    added: [
      { address: { ip: '2001:db8::1', port: 6881 }, flags: PEX_FLAG.seed },
      { address: { ip: '10.0.0.1', port: 1 }, flags: 0 }
    ],
    dropped: [{ ip: '::ffff:10.0.0.2', port: 2 }, { ip: '10.0.0.3', port: 3 }]
  }))
  t.deepEqual(message.added6, Buffer.concat([Buffer.from('20010db8000000000000000000000001', 'hex'), Buffer.from([0x1a, 0xe1])]))
  t.deepEqual(message['added6.f'], Buffer.from([0x02]))
  t.deepEqual(message.added, Buffer.from([10, 0, 0, 1, 0, 1]))
  t.deepEqual(message['added.f'], Buffer.from([0]))
  t.deepEqual(message.dropped6, Buffer.concat([Buffer.from('00000000000000000000ffff0a000002', 'hex'), Buffer.from([0, 2])]))
  t.deepEqual(message.dropped, Buffer.from([10, 0, 0, 3, 0, 3]))
})

test('the payload is canonical bencode: a dictionary with its keys sorted', (t) => {
  const payload = Buffer.from(encodePexMessage({ added: [], dropped: [] }))
  t.is(payload.toString('latin1'), 'd5:added0:7:added.f0:6:added60:8:added6.f0:7:dropped0:8:dropped60:e')
})

test('more than 50 added or 50 dropped peers is a programming error (BEP 11 caps a message)', (t) => {
  const many = Array.from({ length: MAX_PEX_ADDED + 1 }, (_, index) => v4(index % 250, 1000 + index))
  t.throws(() => encodePexMessage({ added: many, dropped: [] }), { instanceOf: RangeError })
  t.throws(() => encodePexMessage({ added: [], dropped: many.slice(0, MAX_PEX_DROPPED + 1).map((peer) => peer.address) }), { instanceOf: RangeError })
  t.notThrows(() => encodePexMessage({ added: many.slice(0, MAX_PEX_ADDED), dropped: many.slice(0, MAX_PEX_DROPPED).map((peer) => peer.address) }))
})
