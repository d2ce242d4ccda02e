import { TrackerError } from './errors.js'

// BEP 15, the UDP tracker protocol: parsing of requests and encoding of responses, without sockets.

/** The magic constant a connect request starts with. */
const PROTOCOL_ID = 0x41727101980n
const ACTION_CONNECT = 0
const ACTION_ANNOUNCE = 1
const ACTION_SCRAPE = 2
const ACTION_ERROR = 3

/** BEP 15 event ids; 0 ("none") is a regular interval announce. */
const EVENTS = ['update', 'completed', 'started', 'stopped'] as const
export type UdpAnnounceEvent = typeof EVENTS[number]

const ANNOUNCE_LENGTH = 98
/** BEP 15: "up to about 74 torrents can be scraped at once" in one packet. */
export const MAX_SCRAPE_HASHES = 74
/** Error messages are cut here, to keep the reply no larger than it needs to be. */
const MAX_ERROR_BYTES = 200

export interface UdpConnectRequest {
  readonly action: 'connect'
  readonly transactionId: number
}

export interface UdpAnnounceRequest {
  readonly action: 'announce'
  readonly connectionId: Buffer
  readonly transactionId: number
  /** Hex. */
  readonly infoHash: string
  /** Hex. */
  readonly peerId: string
  readonly left: number
  readonly event: UdpAnnounceEvent
  /** `undefined` when the client left it to the tracker (-1). */
  readonly numwant: number | undefined
  readonly port: number
}

export interface UdpScrapeRequest {
  readonly action: 'scrape'
  readonly connectionId: Buffer
  readonly transactionId: number
  /** Hex. */
  readonly infoHashes: readonly string[]
}

export type UdpRequest = UdpConnectRequest | UdpAnnounceRequest | UdpScrapeRequest

export type UdpAction = UdpRequest['action']

/**
 * Checks one datagram and tells its action, reading nothing else: the tracker then reads an
 * announce's fields in place (`udpAnnounce*`), without an object per request. Throws ET_BAD_REQUEST
 * for anything that is not a well-formed BEP 15 request.
 */
export function udpRequestAction (msg: Buffer): UdpAction {
  if (msg.length < 16) throw bad(`a ${msg.length}-byte packet is too short`)
  const action = msg.readUInt32BE(8)
  if (action === ACTION_CONNECT) {
    if (msg.readBigUInt64BE(0) !== PROTOCOL_ID) throw bad('a connect request without the protocol id')
    return 'connect'
  }
  if (action === ACTION_ANNOUNCE) {
    // Longer packets may carry BEP 41 options, which this tracker does not use.
    if (msg.length < ANNOUNCE_LENGTH) throw bad(`a ${msg.length}-byte announce is shorter than ${ANNOUNCE_LENGTH} bytes`)
    if (msg.readUInt32BE(80) >= EVENTS.length) throw bad(`unknown announce event ${msg.readUInt32BE(80)}`)
    if (udpAnnouncePort(msg) === 0) throw bad('announce with port 0')
    return 'announce'
  }
  if (action === ACTION_SCRAPE) {
    const hashBytes = msg.length - 16
    if (hashBytes === 0 || hashBytes % 20 !== 0) throw bad('a scrape request that is not a list of 20-byte infohashes')
    if (hashBytes / 20 > MAX_SCRAPE_HASHES) throw bad(`a scrape for more than ${MAX_SCRAPE_HASHES} infohashes`)
    return 'scrape'
  }
  throw bad(`unknown action ${action}`)
}

/**
 * Reads one datagram whole. The announce's IP field is ignored on purpose: honouring it would let
 * anyone put a third party's address into swarms, so peers are always recorded at the datagram's source.
 */
export function parseUdpRequest (msg: Buffer): UdpRequest {
  const action = udpRequestAction(msg)
  const transactionId = udpTransactionId(msg)
  if (action === 'connect') return { action, transactionId }
  const connectionId = Buffer.from(udpConnectionId(msg))
  if (action === 'scrape') {
    const infoHashes: string[] = []
    for (let offset = 16; offset < msg.length; offset += 20) infoHashes.push(msg.toString('hex', offset, offset + 20))
    return { action, connectionId, transactionId, infoHashes }
  }
  return {
    action,
    connectionId,
    transactionId,
    infoHash: udpAnnounceInfoHash(msg),
    peerId: msg.toString('hex', UDP_PEER_ID_OFFSET, UDP_PEER_ID_OFFSET + 20),
    left: udpAnnounceLeft(msg),
    event: udpAnnounceEvent(msg),
    numwant: udpAnnounceNumwant(msg),
    port: udpAnnouncePort(msg)
  }
}

// Readers of a request `udpRequestAction` accepted; each reads its field in place.

export function udpTransactionId (msg: Buffer): number {
  return msg.readUInt32BE(12)
}

/** A view of the 8-byte connection id (not a copy). */
export function udpConnectionId (msg: Buffer): Buffer {
  return msg.subarray(0, 8)
}

/** Hex. */
export function udpAnnounceInfoHash (msg: Buffer): string {
  return msg.toString('hex', 16, 36)
}

/** Where an announce's 20-byte peer id starts. */
export const UDP_PEER_ID_OFFSET = 36

export function udpAnnounceLeft (msg: Buffer): number {
  return Number(msg.readBigUInt64BE(64))
}

export function udpAnnounceEvent (msg: Buffer): UdpAnnounceEvent {
  return EVENTS[msg.readUInt32BE(80)]!
}

/** `undefined` when the client left it to the tracker (-1, or any negative number). */
export function udpAnnounceNumwant (msg: Buffer): number | undefined {
  const numwant = msg.readInt32BE(92)
  return numwant < 0 ? undefined : numwant
}

export function udpAnnouncePort (msg: Buffer): number {
  return msg.readUInt16BE(96)
}

export function encodeConnectResponse (transactionId: number, connectionId: Buffer): Buffer {
  const out = Buffer.alloc(16)
  out.writeUInt32BE(ACTION_CONNECT, 0)
  out.writeUInt32BE(transactionId, 4)
  connectionId.copy(out, 8)
  return out
}

export interface UdpAnnounceResponse {
  readonly transactionId: number
  /** Seconds. */
  readonly interval: number
  readonly leechers: number
  readonly seeders: number
  /** Compact peers of the request's address family: 6 bytes each over IPv4, 18 over IPv6. */
  readonly peers: Buffer
}

export function encodeAnnounceResponse (response: UdpAnnounceResponse): Buffer {
  const out = Buffer.alloc(ANNOUNCE_HEAD_BYTES + response.peers.length)
  writeAnnounceHead(out, response.transactionId, response.interval, response.leechers, response.seeders)
  response.peers.copy(out, ANNOUNCE_HEAD_BYTES)
  return out
}

/** Bytes of an announce response before its compact peers. */
export const ANNOUNCE_HEAD_BYTES = 20

/** Writes an announce response's head at the start of `out`; the compact peers follow it. */
export function writeAnnounceHead (out: Buffer, transactionId: number, interval: number, leechers: number, seeders: number): void {
  out.writeUInt32BE(ACTION_ANNOUNCE, 0)
  out.writeUInt32BE(transactionId, 4)
  out.writeUInt32BE(interval, 8)
  out.writeUInt32BE(Math.min(leechers, 0xffffffff), 12)
  out.writeUInt32BE(Math.min(seeders, 0xffffffff), 16)
}

export interface UdpScrapeCounts {
  readonly seeders: number
  readonly completed: number
  readonly leechers: number
}

export function encodeScrapeResponse (transactionId: number, counts: readonly UdpScrapeCounts[]): Buffer {
  const out = Buffer.alloc(8 + counts.length * 12)
  out.writeUInt32BE(ACTION_SCRAPE, 0)
  out.writeUInt32BE(transactionId, 4)
  counts.forEach((count, index) => {
    out.writeUInt32BE(count.seeders, 8 + index * 12)
    out.writeUInt32BE(count.completed, 12 + index * 12)
    out.writeUInt32BE(count.leechers, 16 + index * 12)
  })
  return out
}

export function encodeErrorResponse (transactionId: number, message: string): Buffer {
  const head = Buffer.alloc(8)
  head.writeUInt32BE(ACTION_ERROR, 0)
  head.writeUInt32BE(transactionId, 4)
  return Buffer.concat([head, Buffer.from(message, 'utf8').subarray(0, MAX_ERROR_BYTES)])
}

function bad (detail: string): TrackerError {
  return new TrackerError('ET_BAD_REQUEST', `bad UDP tracker request: ${detail}`)
}
