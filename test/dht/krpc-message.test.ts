import bencode from 'bencode'
import test from 'ava'
import { isWellFormedKrpc, MAX_KRPC_DATAGRAM } from '../../appliance/dht/krpc-message.js'

const id = Buffer.alloc(20, 1)
const hash = Buffer.alloc(20, 2)
const t2 = Buffer.from('aa')
const query = (q: string, a: Record<string, unknown>): Uint8Array => bencode.encode({ t: t2, y: 'q', q, a: { id, ...a } })
const reply = (r: Record<string, unknown>): Uint8Array => bencode.encode({ t: t2, y: 'r', r: { id, ...r } })

test('the four BEP 5 queries, as libtorrent and bittorrent-dht send them, pass', (t) => {
  t.true(isWellFormedKrpc(query('ping', {})))
  t.true(isWellFormedKrpc(query('find_node', { target: hash })))
  t.true(isWellFormedKrpc(query('get_peers', { info_hash: hash })))
  t.true(isWellFormedKrpc(query('announce_peer', { info_hash: hash, port: 6881, token: Buffer.alloc(4) })))
  t.true(isWellFormedKrpc(query('announce_peer', { info_hash: hash, implied_port: 1, token: Buffer.alloc(20) })))
  // libtorrent adds fields of its own (BEP 42 `ip`, the client version `v`, BEP 32 `want`).
  t.true(isWellFormedKrpc(bencode.encode({ t: t2, y: 'q', q: 'get_peers', v: 'LT20', a: { id, info_hash: hash, want: ['n4'] } })))
})

test('answers and errors pass: nodes, values, tokens of their sizes', (t) => {
  t.true(isWellFormedKrpc(reply({})))
  t.true(isWellFormedKrpc(reply({ nodes: Buffer.alloc(26 * 8), token: Buffer.alloc(20), ip: Buffer.alloc(6) })))
  t.true(isWellFormedKrpc(reply({ values: [Buffer.alloc(6), Buffer.alloc(6)], token: Buffer.alloc(4) })))
  t.true(isWellFormedKrpc(bencode.encode({ t: t2, y: 'e', e: [203, 'Protocol Error'] })))
})

test('anything bittorrent-dht would trip on is refused', (t) => {
  const refused: Array<[string, Uint8Array]> = [
    ['not bencode', Buffer.from('hello')],
    ['a list', bencode.encode([1, 2])],
    ['t a number', bencode.encode({ t: 5, y: 'q', q: 'ping', a: { id } })],
    ['y of two letters', bencode.encode({ t: t2, y: 'qq', q: 'ping', a: { id } })],
    ['a not a dictionary', bencode.encode({ t: t2, y: 'q', q: 'ping', a: 'x' })],
    ['a short id', query('ping', { id: Buffer.alloc(19) })],
    ['target a number', query('find_node', { target: 9 })],
    ['info_hash a list', query('get_peers', { info_hash: [hash] })],
    ['token a number', query('announce_peer', { info_hash: hash, port: 1, token: 3 })],
    ['port out of range', query('announce_peer', { info_hash: hash, port: 70000, token: Buffer.alloc(4) })],
    ['no port, no implied_port', query('announce_peer', { info_hash: hash, token: Buffer.alloc(4) })],
    ['BEP 44 get', query('get', { target: hash })],
    ['BEP 44 put', query('put', { token: Buffer.alloc(4), v: 'x' })],
    ['an unknown query', query('vote', {})],
    ['r id a number', bencode.encode({ t: t2, y: 'r', r: { id: 1 } })],
    ['nodes of a broken length', reply({ nodes: Buffer.alloc(27) })],
    ['values not 6 bytes', reply({ values: [Buffer.alloc(5)] })],
    ['values not a list', reply({ values: Buffer.alloc(6) })],
    ['a BEP 44 value in an answer', reply({ v: 'x' })],
    ['e not a list', bencode.encode({ t: t2, y: 'e', e: 'x' })],
    ['too large', Buffer.concat([query('ping', {}), Buffer.alloc(MAX_KRPC_DATAGRAM)])]
  ]
  for (const [what, datagram] of refused) t.false(isWellFormedKrpc(datagram), what)
})
