import { generateKeyPairSync } from 'node:crypto'
import test from 'ava'
import { DhtNode } from '../../appliance/dht/dht-node.js'
import { GuardedSocket } from '../../appliance/dht/guarded-socket.js'
import { mutableTarget, pointerValue, signatureMessage } from '../../appliance/dht/mutable-item.js'
import { boxKeyOf } from '../../appliance/identity/box-key.js'
import type { InfoHash } from '../../appliance/metainfo/metainfo.js'
import { KrpcClient, peersOf } from '../dht/krpc-client.js'
import type { Teardown } from '../helpers/teardown.js'

// What appliance/dht/dht-node.ts relies on in bittorrent-dht 11 beyond its README: the table of
// announced peers (`_peers`, a record-cache) is what get_peers answers from, by hex infohash; its
// `maxPeers` bounds it; a node added with its id is in the routing table at once; `nodeId` is kept;
// BEP 44 items live in `_values` (by hex target), `_closest` shows every answer to a `get`, and `put`
// fails with the 302 error's code when every node holds that seq already.

const HOST = '127.0.0.7'
const infoHash = 'ab'.repeat(20) as InfoHash

async function startNode (t: Teardown, options: { maxPeers?: number, nodeId?: Buffer } = {}): Promise<DhtNode> {
  const node = new DhtNode({ bootstrap: [], socket: new GuardedSocket(), maxPeers: options.maxPeers ?? 100, maxLookups: 10, maxItems: 10, peerMaxAgeMs: 60_000, nodeId: options.nodeId })
  node.on('error', () => {})
  await node.listen(0, HOST)
  t.teardown(async () => { await node.close() })
  return node
}

test('a peer put in _peers is in the answers to get_peers, and gone once removed', async (t) => {
  const node = await startNode(t)
  const client = await KrpcClient.open(t, HOST)
  const ask = async (): Promise<string[]> => peersOf(await client.query(node.port, HOST, 'get_peers', { info_hash: Buffer.from(infoHash, 'hex') }))
  t.deepEqual(await ask(), [])
  node.addOwnPeer(infoHash, '192.0.2.7', 6881)
  t.deepEqual(await ask(), ['192.0.2.7:6881'])
  node.removeOwnPeer(infoHash, '192.0.2.7', 6881)
  t.deepEqual(await ask(), [])
})

test('maxPeers bounds the peers stored for others (record-cache keeps at most twice it, fresh and stale)', async (t) => {
  const node = await startNode(t, { maxPeers: 50 })
  const client = await KrpcClient.open(t, HOST)
  for (let index = 0; index < 300; index++) {
    const hash = Buffer.alloc(20, index % 7)
    hash.writeUInt16BE(index)
    const answer = await client.query(node.port, HOST, 'get_peers', { info_hash: hash })
    await client.query(node.port, HOST, 'announce_peer', { info_hash: hash, port: 1000 + index, token: Buffer.from(answer!.r.token) })
  }
  t.true(node.storedPeers > 0)
  t.true(node.storedPeers <= 100, String(node.storedPeers))
})

test('the node id given is kept; a node added with its id is in the routing table at once', async (t) => {
  const nodeId = Buffer.alloc(20, 0x5a)
  const node = await startNode(t, { nodeId })
  t.true(node.nodeId.equals(nodeId))
  node.addContact({ id: Buffer.alloc(20, 1), host: '192.0.2.1', port: 6881 })
  t.is(node.nodeCount, 1)
  t.deepEqual(node.contacts().map((contact) => `${contact.host}:${contact.port}`), ['192.0.2.1:6881'])
})

test('BEP 44 through the adapter: a signed put reaches the other node (_closest, put), its get answer carries the item, a repeat of its seq is refused with 302', async (t) => {
  const key = boxKeyOf(generateKeyPairSync('ed25519').privateKey)
  const storing = await startNode(t)
  const putting = await startNode(t)
  putting.addContact({ id: storing.nodeId, host: HOST, port: storing.port })
  const v = pointerValue(infoHash)
  const item = { k: key.publicKey, seq: 5, v, sig: key.sign(signatureMessage({ seq: 5, v })) }
  const target = mutableTarget(key.publicKey)
  t.is(await putting.putMutable(item, target), 1)
  const client = await KrpcClient.open(t, HOST)
  const answer = await client.query(storing.port, HOST, 'get', { target })
  t.is(answer?.r?.seq, 5)
  t.true(Buffer.from(answer?.r?.sig).equals(item.sig))
  t.true(Buffer.from(answer?.r?.v?.ih).equals(Buffer.from(infoHash, 'hex')))
  const replies = await putting.getMutable(target)
  t.deepEqual(replies.map((reply) => [reply.from, reply.seq]).sort(), [['this node', 5], [`${HOST}:${storing.port}`, 5]].sort())
  const error = await t.throwsAsync(putting.putMutable(item, target))
  t.is((error as { code?: number }).code, 302)
})
