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

const item = { k: Buffer.alloc(32, 3), sig: Buffer.alloc(64, 4), seq: 7, v: { ih: hash } }

test('BEP 44 get and put, and answers carrying an item, pass (BEP 46 catalog pointers)', (t) => {
  t.true(isWellFormedKrpc(query('get', { target: hash })))
  t.true(isWellFormedKrpc(query('get', { target: hash, seq: 3 })))
  t.true(isWellFormedKrpc(query('put', { token: Buffer.alloc(4), v: 'x' })))
  t.true(isWellFormedKrpc(query('put', { token: Buffer.alloc(4), ...item })))
  t.true(isWellFormedKrpc(query('put', { token: Buffer.alloc(4), ...item, salt: 'foobar', cas: 6 })))
  t.true(isWellFormedKrpc(reply({ token: Buffer.alloc(20), nodes: Buffer.alloc(26), ...item })))
  t.true(isWellFormedKrpc(reply({ token: Buffer.alloc(20), v: 'immutable' })))
  t.true(isWellFormedKrpc(reply({ token: Buffer.alloc(20), seq: 7 })))
  t.true(isWellFormedKrpc(query('put', { token: Buffer.alloc(4), ...item, v: Buffer.alloc(996) })), '1,000 bytes bencoded')
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
    ['get without a target', query('get', {})],
    ['get with a short target', query('get', { target: Buffer.alloc(19) })],
    ['get with a negative seq', query('get', { target: hash, seq: -1 })],
    ['put without a token', query('put', { v: 'x' })],
    ['put without v', query('put', { token: Buffer.alloc(4) })],
    ['put of a value above 1,000 bytes', query('put', { token: Buffer.alloc(4), v: Buffer.alloc(997) })],
    ['put with sig but no k', query('put', { token: Buffer.alloc(4), v: 'x', sig: Buffer.alloc(64), seq: 1 })],
    ['put with k but no sig', query('put', { token: Buffer.alloc(4), v: 'x', k: Buffer.alloc(32), seq: 1 })],
    ['put with a short key', query('put', { token: Buffer.alloc(4), ...item, k: Buffer.alloc(31) })],
    ['put with a short signature', query('put', { token: Buffer.alloc(4), ...item, sig: Buffer.alloc(63) })],
    ['put with seq a string', query('put', { token: Buffer.alloc(4), ...item, seq: '7' })],
    ['put with seq beyond 2^53', query('put', { token: Buffer.alloc(4), ...item, seq: 2 ** 60 })],
    ['put without seq', query('put', { token: Buffer.alloc(4), k: item.k, sig: item.sig, v: 'x' })],
    ['put with a salt above 64 bytes', query('put', { token: Buffer.alloc(4), ...item, salt: Buffer.alloc(65) })],
    ['put with cas a string', query('put', { token: Buffer.alloc(4), ...item, cas: 'x' })],
    ['an unknown query', query('vote', {})],
    ['r id a number', bencode.encode({ t: t2, y: 'r', r: { id: 1 } })],
    ['nodes of a broken length', reply({ nodes: Buffer.alloc(27) })],
    ['values not 6 bytes', reply({ values: [Buffer.alloc(5)] })],
    ['values not a list', reply({ values: Buffer.alloc(6) })],
    ['an answer with a signature but no value', reply({ sig: item.sig, k: item.k })],
    ['an answer with a value above 1,000 bytes', reply({ v: Buffer.alloc(997) })],
    ['an answer with a short signature', reply({ ...item, sig: Buffer.alloc(10) })],
    ['an answer with a mutable value and no seq', reply({ k: item.k, sig: item.sig, v: 'x' })],
    ['e not a list', bencode.encode({ t: t2, y: 'e', e: 'x' })],
    ['too large', Buffer.concat([query('ping', {}), Buffer.alloc(MAX_KRPC_DATAGRAM)])]
  ]
  for (const [what, datagram] of refused) t.false(isWellFormedKrpc(datagram), what)
})
