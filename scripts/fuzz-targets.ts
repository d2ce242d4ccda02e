/**
 * What scripts/fuzz.ts fuzzes: every parser of input from outside, each with the seeds it starts
 * from (made by our own encoders), the tokens of its format, the errors that are a proper refusal,
 * and the invariants an accepted input must keep (a broken one throws a plain Error: a finding).
 * Imported by the fuzz worker only after block coverage has started.
 */
import { isDeepStrictEqual } from 'node:util'
import bencode from 'bencode'
import { stringify } from 'smol-toml'
import { dictionaryEntries, endOfValue } from '../appliance/metainfo/bencode-span.js'
import { MetainfoError } from '../appliance/metainfo/errors.js'
import { FileListingBuilder } from '../appliance/metainfo/file-listing.js'
import { buildMetainfo, encodeTorrent, parseTorrent, type MetainfoFields } from '../appliance/metainfo/metainfo.js'
import { MessageFramer } from '../appliance/seeder/message-framer.js'
import { DhKeyPair } from '../appliance/seeder/mse/diffie-hellman.js'
import { CRYPTO_PLAINTEXT, CRYPTO_RC4, MseHandshake } from '../appliance/seeder/mse/mse-handshake.js'
import { renderApplianceConfig } from '../appliance/config/appliance-config.js'
import { ConfigError, defaultSettings, settingsFromToml, type SettingsEnvironment } from '../appliance/config/settings.js'
import { MAX_NUMWANT } from '../appliance/tracker/announce.js'
import { TrackerError } from '../appliance/tracker/errors.js'
import { parseHttpAnnounce } from '../appliance/tracker/http-announce.js'
import { parseHttpScrape } from '../appliance/tracker/http-scrape.js'
import { MAX_SCRAPE_HASHES, parseUdpRequest } from '../appliance/tracker/udp-protocol.js'
import { answerRange } from '../appliance/web/byte-range.js'

export interface FuzzTarget {
  readonly description: string
  /** Inputs longer than this are cut: long inputs slow every execution and reach nothing new. */
  readonly maxLength: number
  readonly tokens: readonly string[]
  seeds: () => Buffer[]
  /** Runs one input: returns, throws a refusal, or throws anything else (a finding). */
  run: (input: Buffer) => void
  isRefusal: (error: unknown) => boolean
}

const isMetainfoRefusal = (error: unknown): boolean => error instanceof MetainfoError && error.code === 'ET_BAD_TORRENT'
const isTrackerRefusal = (error: unknown): boolean => error instanceof TrackerError && error.code === 'ET_BAD_REQUEST'
const never = (): boolean => false

/** `detail` (the offending value) goes in the cause, so that findings are told apart by invariant alone. */
function check (condition: boolean, invariant: string, detail?: unknown): void {
  if (!condition) throw new Error(`invariant broken: ${invariant}`, { cause: detail })
}

const digests = (count: number): Buffer => Buffer.alloc(count * 20, 0xab)

/** A BEP 52 torrent of three files (one larger than a piece, one empty), with made-up digests. */
function treeSeed (format: 'hybrid' | 'v2'): MetainfoFields {
  const builder = new FileListingBuilder('/seed/', false, Infinity)
  for (const [path, size] of [['a/big.bin', 40000], ['a/empty', 0], ['b.txt', 100]] as const) builder.add(path, size, 0, 0)
  return { name: 'tree', format, pieceLength: 16384, files: builder.finish(), pieces: format === 'v2' ? Buffer.alloc(0) : digests(4), pieceLayer: Buffer.alloc(4 * 32, 0xcd) }
}

const torrentSeeds: readonly MetainfoFields[] = [
  { name: 'a.txt', pieceLength: 16384, pieces: digests(2), files: [{ path: [], length: 20000 }] },
  {
    name: 'folder',
    pieceLength: 32768,
    pieces: digests(3),
    files: [{ path: ['a', 'b.txt'], length: 40000 }, { path: ['empty'], length: 0 }, { path: ['日本語.txt'], length: 30000 }],
    announceList: [['http://t1.example/announce', 'http://t1b.example/announce'], ['udp://t2.example:6969']],
    urlList: ['http://w.example/'],
    private: true,
    comment: 'c',
    source: 'S',
    createdBy: 'evertorrent/fuzz',
    creationDate: 1700000000
  }
]

const torrent: FuzzTarget = {
  description: 'parseTorrent (appliance/metainfo/metainfo.ts) on .torrent bytes; an accepted torrent must have safe names and survive encodeTorrent',
  maxLength: 4096,
  tokens: ['d', 'l', 'e', 'i', ':', 'i0e', 'i-1e', '0:', 'le', 'de', '4:info', '4:name', '5:files', '4:path', '6:length',
    '12:piece length', '6:pieces', '7:private', '6:source', '8:announce', '13:announce-list', '8:url-list', '7:comment',
    '10:created by', '13:creation date', '2:..', '1:.', '1:/', '20:', '9:__proto__', 'i-0e', 'i01e',
    '9:file tree', '12:meta version', 'i2e', '11:pieces root', '32:', '12:piece layers', '0:', '4:attr', '1:p', '4:.pad'],
  seeds: () => [
    ...torrentSeeds.map((fields) => encodeTorrent(buildMetainfo(fields))),
    ...(['hybrid', 'v2'] as const).map((format) => encodeTorrent(buildMetainfo(treeSeed(format)))),
    // As another tool may write it: the info dictionary's keys unsorted, a url-list that is one string.
    Buffer.concat([Buffer.from('d8:url-list10:http://w/a4:infod4:name1:a6:pieces20:'), digests(1), Buffer.from('12:piece lengthi16384e6:lengthi5eee')])
  ],
  run: (input) => {
    const metainfo = parseTorrent(input)
    for (const segment of [metainfo.name, ...[...metainfo.files].flatMap((file) => file.path)]) {
      check(segment !== '' && segment !== '.' && segment !== '..' && !/[/\u0000-\u001f\u007f]/.test(segment), 'a safe name', segment)
    }
    check(isDeepStrictEqual(parseTorrent(encodeTorrent(metainfo)), metainfo), 'parseTorrent(encodeTorrent(m)) equals m')
  },
  isRefusal: isMetainfoRefusal
}

const bencodeSpan: FuzzTarget = {
  description: 'endOfValue and dictionaryEntries (appliance/metainfo/bencode-span.ts): what they accept, bencode.decode reads, and the entries tile the dictionary',
  maxLength: 2048,
  tokens: ['d', 'l', 'e', 'i', ':', 'i0e', 'i-0e', 'i01e', '0:', '01:', '-1:', 'le', 'de', '1:a', '1:b'],
  seeds: () => [...torrent.seeds(), Buffer.from('d1:ai1e1:bl1:xi-5eed1:cdeee'), Buffer.from('li1ei2ee')],
  run: (input) => {
    const end = endOfValue(input, 0)
    if (end >= 0) bencode.decode(input.subarray(0, end))
    const entries = dictionaryEntries(input)
    if (entries === undefined) return
    let position = 1
    for (const entry of entries) {
      check(entry.start === position && entry.start < entry.valueStart && entry.valueStart < entry.valueEnd, 'entries follow each other')
      position = entry.valueEnd
    }
    check(input[position] === 0x65 && end === position + 1, 'the entries end where the dictionary does')
  },
  isRefusal: never
}

function percentEncode (bytes: Uint8Array): string {
  return [...bytes].map((byte) => `%${byte.toString(16).padStart(2, '0')}`).join('')
}

const sampleHash = Buffer.from('8f'.repeat(20), 'hex')
const samplePeerId = Buffer.from('-ET0001-\xff\xfe\x80abcdefghi', 'latin1')

const announce: FuzzTarget = {
  description: 'parseHttpAnnounce (appliance/tracker/http-announce.ts, tracker-query.ts) on a request URL',
  maxLength: 1024,
  tokens: ['?', '&', '=', '%', '%00', '%ff', '%2', 'info_hash=', 'peer_id=', 'port=', 'left=', 'event=', 'numwant=', 'compact=', 'no_peer_id=', 'started', 'stopped', 'completed', 'empty', '__proto__', 'constructor'],
  seeds: () => [
    `/announce?info_hash=${percentEncode(sampleHash)}&peer_id=${percentEncode(samplePeerId)}&port=6881&uploaded=0&downloaded=0&left=1000&event=started&numwant=5&compact=1`,
    `/announce?info_hash=${'abcdefghij'.repeat(2)}&peer_id=-qB4500-0123456789ab&port=51413&left=0&compact=0&no_peer_id=1`
  ].map((url) => Buffer.from(url, 'latin1')),
  run: (input) => {
    const request = parseHttpAnnounce(input.toString('latin1'))
    check(/^[0-9a-f]{40}$/.test(request.infoHash) && request.peerId.length === 20, '20-byte info_hash and peer_id')
    check(Number.isInteger(request.port) && request.port >= 1 && request.port <= 65535, 'a port')
    check(Number.isInteger(request.numwant) && request.numwant >= 0 && request.numwant <= MAX_NUMWANT, 'numwant within bounds')
    check(request.left === Infinity || (Number.isSafeInteger(request.left) && request.left >= 0), 'left a count of bytes')
  },
  isRefusal: isTrackerRefusal
}

const scrape: FuzzTarget = {
  description: 'parseHttpScrape (appliance/tracker/http-scrape.ts, tracker-query.ts) on a request URL',
  maxLength: 2048,
  tokens: ['?', '&', '=', '%', '%00', '%ff', 'info_hash=', '__proto__'],
  seeds: () => [Buffer.from(`/scrape?info_hash=${percentEncode(sampleHash)}&info_hash=${'abcdefghij'.repeat(2)}`, 'latin1'), Buffer.from('/scrape', 'latin1')],
  run: (input) => {
    const hashes = parseHttpScrape(input.toString('latin1'))
    check(hashes.every((hash) => /^[0-9a-f]{40}$/.test(hash)) && new Set(hashes).size === hashes.length, 'distinct 20-byte infohashes')
  },
  isRefusal: isTrackerRefusal
}

function udpPacket (action: number, fill: (packet: Buffer) => void, length: number): Buffer {
  const packet = Buffer.alloc(length)
  packet.writeBigUInt64BE(action === 0 ? 0x41727101980n : 0x0102030405060708n, 0)
  packet.writeUInt32BE(action, 8)
  packet.writeUInt32BE(0x1234, 12)
  fill(packet)
  return packet
}

const udp: FuzzTarget = {
  description: 'parseUdpRequest (appliance/tracker/udp-protocol.ts) on a BEP 15 datagram',
  maxLength: 2048,
  tokens: [],
  seeds: () => [
    udpPacket(0, () => {}, 16),
    udpPacket(1, (packet) => {
      sampleHash.copy(packet, 16)
      samplePeerId.copy(packet, 36)
      packet.writeBigUInt64BE(1000n, 64)
      packet.writeUInt32BE(2, 80)
      packet.writeInt32BE(-1, 92)
      packet.writeUInt16BE(6881, 96)
    }, 98),
    udpPacket(2, (packet) => { sampleHash.copy(packet, 16); sampleHash.copy(packet, 36) }, 56)
  ],
  run: (input) => {
    const request = parseUdpRequest(input)
    if (request.action === 'announce') {
      check(request.port >= 1 && request.port <= 65535, 'a port')
      check(request.numwant === undefined || (Number.isInteger(request.numwant) && request.numwant >= 0), 'numwant a count')
      check(Number.isInteger(request.left) && request.left >= 0, 'left a count of bytes')
    }
    if (request.action === 'scrape') check(request.infoHashes.length >= 1 && request.infoHashes.length <= MAX_SCRAPE_HASHES, 'scrape within bounds')
  },
  isRefusal: isTrackerRefusal
}

const HANDSHAKE = Buffer.concat([Buffer.from('\x13BitTorrent protocol', 'latin1'), Buffer.alloc(8), sampleHash, samplePeerId])

const framer: FuzzTarget = {
  description: 'MessageFramer (appliance/seeder/message-framer.ts): the first byte is the chunk size, the rest the stream; cut or whole, it must find the same problem',
  maxLength: 2048,
  tokens: [],
  seeds: () => [Buffer.concat([Buffer.from([7]), HANDSHAKE, Buffer.from('00000000' + '0000000102' + '0000000d06' + '00'.repeat(12), 'hex')])],
  run: (input) => {
    const size = 1 + (input[0] ?? 0)
    const stream = input.subarray(1)
    const limit = 1000
    const whole = new MessageFramer(limit).push(stream)
    const cut = new MessageFramer(limit)
    let problem
    for (let at = 0; at < stream.length && problem === undefined; at += size) problem = cut.push(stream.subarray(at, at + size))
    check(problem === whole, 'the same verdict cut in chunks as whole', { size, cut: problem, whole })
  },
  isRefusal: never
}

const mse: FuzzTarget = {
  description: 'MseHandshake (appliance/seeder/mse/mse-handshake.ts) as the responder: the first byte is the chunk size, the rest what a peer sends; it waits, or fails with a reason, never throws',
  maxLength: 2048,
  tokens: [],
  seeds: () => [Buffer.concat([Buffer.from([63]), new DhKeyPair().publicKey, Buffer.alloc(40)])],
  run: (input) => {
    const size = 1 + (input[0] ?? 0)
    const stream = input.subarray(1)
    const responder = MseHandshake.responder({ allowed: CRYPTO_RC4 | CRYPTO_PLAINTEXT, findTorrent: () => undefined })
    for (let at = 0; at < stream.length; at += size) {
      const step = responder.receive(stream.subarray(at, at + size))
      check(step.done === undefined, 'no handshake completes without a published torrent')
      if (step.failed !== undefined) return
    }
  },
  isRefusal: never
}

const range: FuzzTarget = {
  description: 'answerRange (appliance/web/byte-range.ts): the first 6 bytes are the size, the rest the Range header; a partial answer lies within the file',
  maxLength: 512,
  tokens: ['bytes=', 'bytes', '=', '-', ',', ' ', '\t', 'BYTES'],
  seeds: () => ['bytes=0-99', 'bytes=500-', 'bytes=-100', 'bytes=0-0, 500-599,-1'].map((header) => Buffer.concat([Buffer.from('0000000003e8', 'hex'), Buffer.from(header, 'latin1')])),
  run: (input) => {
    const size = input.length >= 6 ? input.readUIntBE(0, 6) : 0
    const answer = answerRange(input.subarray(6).toString('latin1'), size)
    if (answer.kind === 'partial') {
      check(Number.isSafeInteger(answer.start) && Number.isSafeInteger(answer.end) && answer.start >= 0 && answer.start <= answer.end && answer.end < size, 'a partial range within the file')
    }
  },
  isRefusal: never
}

const environment: SettingsEnvironment = { home: '/home/fuzz', hostname: 'fuzz', stateHome: '/home/fuzz/.local/state' }

const config: FuzzTarget = {
  description: 'settingsFromToml (appliance/config/settings.ts) on a config file',
  maxLength: 8192,
  tokens: ['[', ']', '[[', ']]', '=', '"', "'", '"""', '\n', '#', '.', ',', '{', '}', 'true', '1979-05-27T07:32:00Z', 'inf', 'nan',
    '0x7f', '1_000', '[http]', '[seeder]', 'port', 'http_port', 'seeder_upload_slots', '__proto__', 'constructor', 'toString'],
  seeds: () => {
    const nested: Record<string, Record<string, unknown>> = {}
    for (const [key, value] of Object.entries(defaultSettings(environment))) {
      const [section, name] = key.split('.') as [string, string]
      nested[section] = { ...nested[section], [name]: value }
    }
    return [stringify(nested), renderApplianceConfig(), 'port = 3\n', '[http]\nport = 80\n'].map((text) => Buffer.from(text))
  },
  run: (input) => { settingsFromToml(input.toString('utf8'), 'fuzz.toml', environment) },
  isRefusal: (error) => error instanceof ConfigError && error.code === 'ET_CONFIG'
}

export const TARGETS: Readonly<Record<string, FuzzTarget>> = { torrent, bencode: bencodeSpan, announce, scrape, udp, framer, mse, range, config }
