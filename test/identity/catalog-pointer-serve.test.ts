import { createPrivateKey } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import test from 'ava'
import DHT from 'bittorrent-dht'
import { DhtNode } from '../../appliance/dht/dht-node.js'
import { GuardedSocket } from '../../appliance/dht/guarded-socket.js'
import { mutableTarget, pointerValue, signatureMessage } from '../../appliance/dht/mutable-item.js'
import { resolveCatalogPointer } from '../../appliance/dht/resolve-catalog-pointer.js'
import { boxKeyOf } from '../../appliance/identity/box-key.js'
import { parseCatalogDocument } from '../../appliance/identity/catalog-document.js'
import type { InfoHash } from '../../appliance/metainfo/metainfo.js'
import { pseudoRandomBytes, writeTree } from '../helpers/content.js'
import { ServeProcess, type LogLine, type ServeOptions } from '../helpers/serve-process.js'
import { tempDir } from '../helpers/temp-dir.js'
import type { Teardown } from '../helpers/teardown.js'
import { ed25519Verify, eventually, startTestNode } from '../dht/dht-nodes.js'
import { KrpcClient } from '../dht/krpc-client.js'
import { ltDownload } from '../seeder/lt-download.js'

// Box A (the real serve process, DHT on) publishes its catalog torrent and points at it with a signed
// BEP 46 item; the test's own DHT nodes, on loopback addresses of their own, resolve it:
// serve on 127.0.0.1, the bootstrap node on 127.0.0.3, the resolver on 127.0.0.5, nodes that store
// anything (forgers' accomplices) on 127.0.0.6, the test's raw KRPC socket on 127.0.0.8.

const BOOTSTRAP_HOST = '127.0.0.3'
const RESOLVER_HOST = '127.0.0.5'
const HOSTILE_HOST = '127.0.0.6'
const CLIENT_HOST = '127.0.0.8'

const catalogWith = (items: number) => (line: LogLine): boolean => line.msg === 'catalog published' && line.items === String(items)
const pointerPut = (infoHash: string) => (line: LogLine): boolean => line.msg === 'catalog pointer put in the DHT' && line.infohash === infoHash

/** Our resolver's DHT node: the adapter over bittorrent-dht a follower box will use, joined through `bootstrap`. */
async function startResolver (t: Teardown, bootstrap: string): Promise<DhtNode> {
  const node = new DhtNode({ bootstrap: [bootstrap], socket: new GuardedSocket(), maxPeers: 100, maxLookups: 16, maxItems: 100, peerMaxAgeMs: 60_000 })
  node.on('error', () => {})
  node.on('warning', () => {})
  await node.listen(0, RESOLVER_HOST)
  t.teardown(async () => { await node.close() })
  await eventually(() => node.nodeCount > 0, 30_000, 'the resolver joining the DHT')
  return node
}

/** A plain bittorrent-dht node that stores whatever is put to it (its `verify` says yes to anything): where forged items live. */
async function startAccomplice (t: Teardown, bootstrap: string): Promise<{ dht: DHT, port: number }> {
  const dht = new DHT({ bootstrap: [bootstrap], host: false, verify: () => true })
  const ready = new Promise<void>((resolve) => dht.once('ready', () => resolve()))
  await new Promise<void>((resolve) => dht.listen(0, HOSTILE_HOST, () => resolve()))
  t.teardown(async () => { await new Promise<void>((resolve) => dht.destroy(() => resolve())) })
  await ready
  return { dht, port: dht.address().port }
}

/** A BEP 44 put by hand to one node: a get for its token first. Resolves with the node's answer to the put. */
async function putByHand (client: KrpcClient, host: string, port: number, item: Record<string, unknown>): Promise<Record<string, any> | undefined> {
  const target = mutableTarget(item.k as Buffer)
  const got = await client.query(port, host, 'get', { target })
  const token = got?.r?.token
  if (token === undefined) throw new Error(`no token from ${host}:${port}`)
  return await client.query(port, host, 'put', { token: Buffer.from(token), ...item })
}

/** The item one node holds for `target`, by a plain get. */
async function heldBy (client: KrpcClient, host: string, port: number, target: Buffer): Promise<{ seq: number, ih: string } | undefined> {
  const r = (await client.query(port, host, 'get', { target }))?.r
  if (r?.v?.ih === undefined) return undefined
  return { seq: r.seq, ih: Buffer.from(r.v.ih).toString('hex') }
}

function serveOptions (root: string, bootstrap: string): ServeOptions {
  return {
    libraries: [join(root, 'library')],
    stateDir: join(root, 'state'),
    settings: { 'dht.enabled': true, 'dht.bootstrap': [bootstrap], 'library.rescan_interval': 1 }
  }
}

test('box A points at its catalog from the DHT (BEP 46); seq goes up with the catalog and never down; forged items are ignored', async (t) => {
  const root = tempDir(t)
  writeTree(join(root, 'library'), { 'first.bin': pseudoRandomBytes('catalog-first', 70_000) })
  const bootstrap = await startTestNode(t, BOOTSTRAP_HOST)
  let serve = await ServeProcess.start(t, serveOptions(root, bootstrap.address))
  const publicKey = Buffer.from(serve.ready.public_key!, 'hex')
  t.is(publicKey.length, 32)
  const first = await serve.waitFor(catalogWith(1))
  const firstPut = await serve.waitFor(pointerPut(first.infohash!))
  const firstSeq = Number(firstPut.seq)

  // An independent client (plain bittorrent-dht, its own ed25519 check from Node's crypto) gets the item.
  const independent = new DHT({ bootstrap: [bootstrap.address], host: false, verify: ed25519Verify })
  await new Promise<void>((resolve) => independent.listen(0, RESOLVER_HOST, () => resolve()))
  t.teardown(async () => { await new Promise<void>((resolve) => independent.destroy(() => resolve())) })
  const got = await new Promise<any>((resolve, reject) => independent.get(mutableTarget(publicKey), (error: Error | null, value: unknown) => { if (error === null) resolve(value); else reject(error) }))
  t.truthy(got, 'the item is in the DHT')
  t.is(Buffer.from(got.v.ih).toString('hex'), first.infohash)
  t.is(got.seq, firstSeq)
  t.true(Buffer.from(got.k).equals(publicKey))
  t.true(ed25519Verify(got.sig, signatureMessage({ seq: got.seq, v: got.v }), publicKey))

  // Our resolver agrees.
  const resolver = await startResolver(t, bootstrap.address)
  const resolved = await resolveCatalogPointer(resolver, publicKey)
  t.is(resolved.found?.infoHash, first.infohash as InfoHash)
  t.is(resolved.found?.seq, firstSeq)

  // Another item: a new catalog, the next seq.
  writeTree(join(root, 'library'), { 'second.bin': pseudoRandomBytes('catalog-second', 50_000) })
  const second = await serve.waitFor(catalogWith(2))
  t.not(second.infohash, first.infohash)
  const secondSeq = Number((await serve.waitFor(pointerPut(second.infohash!))).seq)
  t.is(secondSeq, firstSeq + 1)
  const afterSecond = await resolveCatalogPointer(resolver, publicKey, firstSeq)
  t.is(afterSecond.found?.infoHash, second.infohash as InfoHash)
  t.is(afterSecond.found?.seq, secondSeq)

  // A restarted: the same catalog, the same seq (never a lower one).
  t.is(await serve.stop(), 0)
  serve = await ServeProcess.start(t, serveOptions(root, bootstrap.address))
  t.is(serve.ready.public_key, publicKey.toString('hex'), 'the same identity')
  const again = await serve.waitFor(catalogWith(2))
  t.is(again.infohash, second.infohash, 'the same catalog torrent')
  t.is(Number((await serve.waitFor(pointerPut(second.infohash!))).seq), secondSeq, JSON.stringify(serve.lines.filter((line) => line.msg.startsWith('catalog'))))
  t.false(serve.lines.some((line) => line.msg === 'catalog published' && line.items !== '2'), 'no empty catalog at start')

  // Forgeries, put by the test into the same DHT: a higher seq with a wrong signature, and a lower
  // seq correctly signed with A's own key (read from A's state folder).
  const boxKey = boxKeyOf(createPrivateKey(await readFile(join(root, 'state', 'identity.key'))))
  t.true(boxKey.publicKey.equals(publicKey))
  const bogus = 'ee'.repeat(20) as InfoHash
  const forged = { k: publicKey, seq: secondSeq + 10, v: pointerValue(bogus), sig: Buffer.alloc(64, 7) }
  const staleSeq = secondSeq - 1
  const stale = { k: publicKey, seq: staleSeq, v: pointerValue(bogus), sig: boxKey.sign(signatureMessage({ seq: staleSeq, v: pointerValue(bogus) })) }
  const client = await KrpcClient.open(t, CLIENT_HOST)
  const target = mutableTarget(publicKey)
  const honest = [
    { name: 'the bootstrap node (bittorrent-dht)', host: BOOTSTRAP_HOST, port: Number(bootstrap.address.split(':')[1]) },
    { name: 'box A (bittorrent-dht behind its guard)', host: '127.0.0.1', port: Number(serve.ready.dht_port) }
  ]
  for (const node of honest) {
    const forgedAnswer = await putByHand(client, node.host, node.port, forged)
    const staleAnswer = await putByHand(client, node.host, node.port, stale)
    t.log(`${node.name}: wrong signature → ${JSON.stringify(forgedAnswer?.e ?? forgedAnswer?.r ?? 'no answer')}; lower seq → ${JSON.stringify(staleAnswer?.e === undefined ? staleAnswer : [staleAnswer.e[0], Buffer.from(staleAnswer.e[1]).toString()])}`)
    t.falsy(forgedAnswer?.r, `${node.name} does not take a wrong signature`)
    t.is(staleAnswer?.e?.[0], 302, `${node.name} answers 302 to a lower seq`)
    t.deepEqual(await heldBy(client, node.host, node.port, target), { seq: secondSeq, ih: second.infohash }, `${node.name} keeps the genuine item`)
  }
  // Two accomplice nodes store one forgery each and hand it to whoever asks.
  const forger = await startAccomplice(t, bootstrap.address)
  const replayer = await startAccomplice(t, bootstrap.address)
  t.truthy((await putByHand(client, HOSTILE_HOST, forger.port, forged))?.r)
  t.truthy((await putByHand(client, HOSTILE_HOST, replayer.port, stale))?.r)
  t.deepEqual(await heldBy(client, HOSTILE_HOST, forger.port, target), { seq: secondSeq + 10, ih: bogus })

  const { found, refused } = await resolveCatalogPointer(resolver, publicKey, secondSeq)
  t.deepEqual(found && { infoHash: found.infoHash, seq: found.seq }, { infoHash: second.infohash as InfoHash, seq: secondSeq })
  t.true(refused.some((refusal) => refusal.from === `${HOSTILE_HOST}:${forger.port}` && refusal.reason === 'bad-signature'), JSON.stringify(refused))
  t.true(refused.some((refusal) => refusal.from === `${HOSTILE_HOST}:${replayer.port}` && refusal.reason === 'stale-seq'), JSON.stringify(refused))
})

test('the catalog torrent downloads with libtorrent by magnet from box A, and parses as A\'s catalog', async (t) => {
  const root = tempDir(t)
  writeTree(join(root, 'library'), { 'one.bin': pseudoRandomBytes('catalog-lt-one', 40_000), 'two/a.txt': 'alpha', 'two/b.txt': 'beta' })
  const bootstrap = await startTestNode(t, BOOTSTRAP_HOST)
  const serve = await ServeProcess.start(t, serveOptions(root, bootstrap.address))
  const published = await serve.waitForCount((line) => line.msg === 'published', 2)
  const catalog = await serve.waitFor(catalogWith(2))
  const result = await ltDownload(`magnet:?xt=urn:btih:${catalog.infohash!}`, join(root, 'download'), [`127.0.0.1:${serve.peerPort}`], 60)
  t.true(result.ok, JSON.stringify(result))
  t.is(result.files.length, 1)
  // The status page's JSON shows the public key, and nothing of the private one.
  const status = await (await fetch(`http://127.0.0.1:${serve.httpPort}/api/status`)).text()
  t.is((JSON.parse(status) as { box: { publicKey?: string } }).box.publicKey, serve.ready.public_key)
  const privateKey = createPrivateKey(await readFile(join(root, 'state', 'identity.key'))).export({ format: 'jwk' }).d!
  for (const form of [privateKey, Buffer.from(privateKey, 'base64url').toString('hex'), Buffer.from(privateKey, 'base64url').toString('base64')]) t.false(status.includes(form))
  const document = parseCatalogDocument(await readFile(join(root, 'download', result.files[0]!.path)))
  t.is(document.publicKey, serve.ready.public_key)
  t.deepEqual(
    document.items.map((item) => [item.infoHash, item.name, item.size]).sort(),
    published.map((line) => [line.infohash, line.name, Number(line.size)]).sort()
  )
})
