import assert from 'node:assert/strict'
import test from 'ava'
import bencode from 'bencode'
import fc from 'fast-check'
import { dictionaryEntries } from '../../appliance/metainfo/bencode-span.js'
import { DEFAULT_NUMWANT, MAX_NUMWANT } from '../../appliance/tracker/announce.js'
import { TrackerError } from '../../appliance/tracker/errors.js'
import { encodeHttpAnnounceResponse, parseHttpAnnounce, type HttpAnnounceRequest } from '../../appliance/tracker/http-announce.js'
import { encodeHttpScrapeResponse, parseHttpScrape } from '../../appliance/tracker/http-scrape.js'
import { encodeAnnounceResponse, encodeErrorResponse, encodeScrapeResponse, MAX_SCRAPE_HASHES, parseUdpRequest } from '../../appliance/tracker/udp-protocol.js'
import { readCompact } from '../tracker/tracker-client.js'
import { mutated, propertyOptions, refusesOnlyWith } from './properties.js'

const isRefusal = (error: unknown): boolean => error instanceof TrackerError && error.code === 'ET_BAD_REQUEST'
const twenty = fc.uint8Array({ minLength: 20, maxLength: 20 }).map((bytes) => Buffer.from(bytes))
const port = fc.integer({ min: 1, max: 65535 })
const EVENTS = { started: 'started', completed: 'completed', stopped: 'stopped', empty: 'update', '': 'update' } as const

/**
 * Bytes as a client may percent-encode them: each byte %XX in either case, or, where RFC 3986 lets
 * it stand (unreserved characters), as itself.
 */
function encoded (bytes: Uint8Array): fc.Arbitrary<string> {
  return fc.tuple(...[...bytes].map((byte) => {
    const escaped = byte.toString(16).padStart(2, '0')
    const choices: Array<fc.Arbitrary<string>> = [fc.constant(`%${escaped}`), fc.constant(`%${escaped.toUpperCase()}`)]
    if (/[A-Za-z0-9\-._~]/.test(String.fromCharCode(byte))) choices.push(fc.constant(String.fromCharCode(byte)))
    return fc.oneof(...choices)
  })).map((parts) => parts.join(''))
}

interface Announce {
  readonly infoHash: Buffer
  readonly peerId: Buffer
  readonly port: number
  readonly left: number | undefined
  readonly event: keyof typeof EVENTS | undefined
  readonly numwant: number | undefined
  readonly compact: '0' | '1' | undefined
  readonly noPeerId: boolean
}

const announce: fc.Arbitrary<Announce> = fc.record({
  infoHash: twenty,
  peerId: twenty,
  port,
  left: fc.option(fc.integer({ min: 0, max: 10 ** 15 - 1 }), { nil: undefined }),
  event: fc.option(fc.constantFrom(...Object.keys(EVENTS) as Array<keyof typeof EVENTS>), { nil: undefined }),
  numwant: fc.option(fc.integer({ min: 0, max: 10 ** 15 - 1 }), { nil: undefined }),
  compact: fc.option(fc.constantFrom('0' as const, '1' as const), { nil: undefined }),
  noPeerId: fc.boolean()
})

/** The request's URL, its parameters in any order, with the ones the tracker ignores mixed in. */
function announceUrl (request: Announce): fc.Arbitrary<string> {
  return fc.tuple(encoded(request.infoHash), encoded(request.peerId)).chain(([infoHash, peerId]) => {
    const pairs = [
      `info_hash=${infoHash}`, `peer_id=${peerId}`, `port=${request.port}`, 'uploaded=0', 'downloaded=123', 'key=abc', 'ip=6.6.6.6',
      ...(request.left === undefined ? [] : [`left=${request.left}`]),
      ...(request.event === undefined ? [] : [`event=${request.event}`]),
      ...(request.numwant === undefined ? [] : [`numwant=${request.numwant}`]),
      ...(request.compact === undefined ? [] : [`compact=${request.compact}`]),
      ...(request.noPeerId ? ['no_peer_id=1'] : [])
    ]
    return fc.shuffledSubarray(pairs, { minLength: pairs.length }).map((shuffled) => `/announce?${shuffled.join('&')}`)
  })
}

const announces = announce.chain((request) => announceUrl(request).map((url) => ({ request, url })))

test('an HTTP announce parses back to what the client sent, however it encoded it', (t) => {
  fc.assert(fc.property(announces, ({ request, url }) => {
    assert.deepEqual(parseHttpAnnounce(url), {
      infoHash: request.infoHash.toString('hex'),
      peerId: request.peerId,
      port: request.port,
      left: request.left ?? Infinity,
      event: EVENTS[request.event ?? ''],
      numwant: Math.min(request.numwant ?? DEFAULT_NUMWANT, MAX_NUMWANT),
      compact: request.compact !== '0',
      noPeerId: request.noPeerId
    } satisfies HttpAnnounceRequest)
  }), propertyOptions(300))
  t.pass()
})

test('an HTTP announce or scrape URL is parsed or refused with ET_BAD_REQUEST, whatever it holds', (t) => {
  const urls = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 200 }),
    fc.string({ unit: 'binary-ascii', maxLength: 200 }).map((query) => `/announce?${query}`),
    mutated(announces.map(({ url }) => Buffer.from(url, 'latin1'))).map((bytes) => bytes.toString('latin1'))
  )
  fc.assert(fc.property(urls, (url) => refusesOnlyWith(isRefusal, () => parseHttpAnnounce(url)) && refusesOnlyWith(isRefusal, () => parseHttpScrape(url))), propertyOptions(1000))
  t.pass()
})

test('an HTTP scrape parses to the distinct infohashes asked for, in order', (t) => {
  // Drawn from a few hashes, so that clients asking twice for one are common.
  const asked = fc.tuple(fc.array(twenty, { minLength: 1, maxLength: 4 }), fc.array(fc.nat(), { maxLength: 8 })).map(([pool, picks]) => picks.map((pick) => pool[pick % pool.length]!))
  const scrapes = asked.chain((hashes) => fc.tuple(fc.constant(hashes), fc.tuple(...hashes.map(encoded))))
  fc.assert(fc.property(scrapes, ([hashes, parts]) => {
    const url = `/scrape${parts.length === 0 ? '' : '?'}${parts.map((part) => `info_hash=${part}`).join('&')}`
    assert.deepEqual(parseHttpScrape(url), [...new Set(hashes.map((hash) => hash.toString('hex')))])
  }), propertyOptions(200))
  t.pass()
})

const peer = fc.oneof(
  fc.record({ ip: fc.ipV4(), port, peerId: fc.option(twenty.map((id) => id.toString('hex')), { nil: undefined }) }),
  fc.record({ ip: fc.ipV6(), port, peerId: fc.option(twenty.map((id) => id.toString('hex')), { nil: undefined }) })
)
const canonicalIp = (ip: string): string => ip.includes(':') ? new URL(`http://[${ip}]/`).hostname.slice(1, -1) : ip
const address = (ip: string, port: number): string => ip.includes(':') ? `[${canonicalIp(ip)}]:${port}` : `${ip}:${port}`

test('an HTTP announce response decodes to the counts and peers encoded, compact or not', (t) => {
  const response = fc.record({ interval: fc.nat(86400), complete: fc.nat(1e6), incomplete: fc.nat(1e6), peers: fc.array(peer, { maxLength: 10 }) })
  fc.assert(fc.property(announces, response, ({ url }, answer) => {
    const request = parseHttpAnnounce(url)
    const decoded = bencode.decode(encodeHttpAnnounceResponse(request, answer))
    assert.deepEqual([decoded.interval, decoded.complete, decoded.incomplete], [answer.interval, answer.complete, answer.incomplete])
    if (request.compact) {
      const v4 = answer.peers.filter((each) => !each.ip.includes(':')).map((each) => address(each.ip, each.port))
      const v6 = answer.peers.filter((each) => each.ip.includes(':')).map((each) => address(each.ip, each.port))
      assert.deepEqual(readCompact(Buffer.from(decoded.peers), 4), v4)
      assert.deepEqual(readCompact(Buffer.from(decoded.peers6), 6), v6)
    } else {
      assert.deepEqual(decoded.peers.map((each: { ip: Uint8Array, port: number, 'peer id'?: Uint8Array }) => ({
        ip: Buffer.from(each.ip).toString(),
        port: each.port,
        peerId: each['peer id'] === undefined ? undefined : Buffer.from(each['peer id']).toString('hex')
      })), answer.peers.map((each) => ({ ip: each.ip, port: each.port, peerId: request.noPeerId ? undefined : each.peerId })))
    }
  }), propertyOptions(200))
  t.pass()
})

test('an HTTP scrape response holds each infohash as raw bytes, sorted, with its counts', (t) => {
  const counts = fc.uniqueArray(fc.record({ infoHash: twenty.map((hash) => hash.toString('hex')), complete: fc.nat(1e6), downloaded: fc.nat(1e6), incomplete: fc.nat(1e6) }), { selector: (count) => count.infoHash, maxLength: 8 })
  fc.assert(fc.property(counts, (answer) => {
    const body = encodeHttpScrapeResponse(answer)
    const files = dictionaryEntries(body)!.find((entry) => entry.key.toString() === 'files')!
    const entries = dictionaryEntries(body.subarray(files.valueStart, files.valueEnd))!
    const sorted = [...answer].sort((a, b) => Buffer.compare(Buffer.from(a.infoHash, 'hex'), Buffer.from(b.infoHash, 'hex')))
    assert.deepEqual(entries.map((entry) => entry.key.toString('hex')), sorted.map((count) => count.infoHash))
    assert.deepEqual(entries.map((entry) => bencode.decode(body.subarray(files.valueStart + entry.valueStart, files.valueStart + entry.valueEnd))), sorted.map(({ infoHash, ...rest }) => rest))
  }), propertyOptions(200))
  t.pass()
})

/** BEP 15 requests, written out from the spec, with what the tracker must read from them. */
const transactionId = fc.nat(2 ** 32 - 1)
const connectionId = fc.uint8Array({ minLength: 8, maxLength: 8 }).filter((id) => Buffer.from(id).readBigUInt64BE() !== 0x41727101980n)
const udpRequests = fc.oneof(
  transactionId.map((id) => {
    const packet = Buffer.alloc(16)
    packet.writeBigUInt64BE(0x41727101980n, 0)
    packet.writeUInt32BE(id, 12)
    return { packet, parsed: { action: 'connect', transactionId: id } }
  }),
  fc.record({ connection: connectionId, id: transactionId, infoHash: twenty, peerId: twenty, left: fc.bigInt(0n, 2n ** 53n - 1n), event: fc.nat(3), numwant: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), port, options: fc.uint8Array({ maxLength: 20 }) }).map((r) => {
    const packet = Buffer.alloc(98)
    Buffer.from(r.connection).copy(packet, 0)
    packet.writeUInt32BE(1, 8)
    packet.writeUInt32BE(r.id, 12)
    r.infoHash.copy(packet, 16)
    r.peerId.copy(packet, 36)
    packet.writeBigUInt64BE(r.left, 64)
    packet.writeUInt32BE(r.event, 80)
    packet.writeInt32BE(r.numwant, 92)
    packet.writeUInt16BE(r.port, 96)
    return {
      // BEP 41 options may follow; the tracker reads past none of them.
      packet: Buffer.concat([packet, r.options]),
      parsed: {
        action: 'announce',
        connectionId: Buffer.from(r.connection),
        transactionId: r.id,
        infoHash: r.infoHash.toString('hex'),
        peerId: r.peerId.toString('hex'),
        left: Number(r.left),
        event: ['update', 'completed', 'started', 'stopped'][r.event],
        numwant: r.numwant < 0 ? undefined : r.numwant,
        port: r.port
      }
    }
  }),
  fc.record({ connection: connectionId, id: transactionId, hashes: fc.array(twenty, { minLength: 1, maxLength: MAX_SCRAPE_HASHES }) }).map((r) => {
    const head = Buffer.alloc(16)
    Buffer.from(r.connection).copy(head, 0)
    head.writeUInt32BE(2, 8)
    head.writeUInt32BE(r.id, 12)
    return {
      packet: Buffer.concat([head, ...r.hashes]),
      parsed: { action: 'scrape', connectionId: Buffer.from(r.connection), transactionId: r.id, infoHashes: r.hashes.map((hash) => hash.toString('hex')) }
    }
  })
)

test('a UDP request parses back to what the client wrote', (t) => {
  fc.assert(fc.property(udpRequests, ({ packet, parsed }) => { assert.deepEqual(parseUdpRequest(packet), parsed) }), propertyOptions(300))
  t.pass()
})

test('a UDP datagram is parsed or refused with ET_BAD_REQUEST, whatever it holds', (t) => {
  const datagrams = fc.oneof(fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)), mutated(udpRequests.map(({ packet }) => packet)))
  fc.assert(fc.property(datagrams, (packet) => refusesOnlyWith(isRefusal, () => parseUdpRequest(packet))), propertyOptions(1000))
  t.pass()
})

test('UDP responses carry their fields at the BEP 15 offsets', (t) => {
  const u32 = fc.nat(2 ** 32 - 1)
  fc.assert(fc.property(u32, u32, u32, u32, fc.uint8Array({ maxLength: 60 }), fc.array(fc.tuple(u32, u32, u32), { maxLength: MAX_SCRAPE_HASHES }), fc.string({ unit: 'binary', maxLength: 300 }),
    (id, interval, leechers, seeders, peers, counts, message) => {
      const announced = encodeAnnounceResponse({ transactionId: id, interval, leechers, seeders, peers: Buffer.from(peers) })
      assert.deepEqual([0, 4, 8, 12, 16].map((offset) => announced.readUInt32BE(offset)), [1, id, interval, leechers, seeders])
      assert.deepEqual(announced.subarray(20), Buffer.from(peers))
      const scraped = encodeScrapeResponse(id, counts.map(([s, completed, l]) => ({ seeders: s, completed, leechers: l })))
      assert.equal(scraped.length, 8 + counts.length * 12)
      assert.deepEqual(counts.map((_, index) => [0, 4, 8].map((field) => scraped.readUInt32BE(8 + index * 12 + field))), counts)
      const failed = encodeErrorResponse(id, message)
      assert.deepEqual([failed.readUInt32BE(0), failed.readUInt32BE(4)], [3, id])
      assert.ok(Buffer.from(message).subarray(0, failed.length - 8).equals(failed.subarray(8)) && failed.length <= 8 + 200)
    }), propertyOptions(200))
  t.pass()
})
