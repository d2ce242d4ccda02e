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

/**
 * Reads one datagram. The announce's IP field is ignored on purpose: honouring it would let anyone
 * put a third party's address into swarms, so peers are always recorded at the datagram's source.
 */
export function parseUdpRequest (msg: Buffer): UdpRequest {
  if (msg.length < 16) throw bad(`a ${msg.length}-byte packet is too short`)
  const action = msg.readUInt32BE(8)
  const transactionId = msg.readUInt32BE(12)
  if (action === ACTION_CONNECT) {
    if (msg.readBigUInt64BE(0) !== PROTOCOL_ID) throw bad('a connect request without the protocol id')
    return { action: 'connect', transactionId }
  }
  const connectionId = Buffer.from(msg.subarray(0, 8))
  if (action === ACTION_ANNOUNCE) return parseAnnounce(msg, connectionId, transactionId)
  if (action === ACTION_SCRAPE) return parseScrape(msg, connectionId, transactionId)
  throw bad(`unknown action ${action}`)
}

function parseAnnounce (msg: Buffer, connectionId: Buffer, transactionId: number): UdpAnnounceRequest {
  // Longer packets may carry BEP 41 options, which this tracker does not use.
  if (msg.length < ANNOUNCE_LENGTH) throw bad(`a ${msg.length}-byte announce is shorter than ${ANNOUNCE_LENGTH} bytes`)
  const event = EVENTS[msg.readUInt32BE(80)]
  if (event === undefined) throw bad(`unknown announce event ${msg.readUInt32BE(80)}`)
  const numwant = msg.readInt32BE(92)
  const port = msg.readUInt16BE(96)
  if (port === 0) throw bad('announce with port 0')
  return {
    action: 'announce',
    connectionId,
    transactionId,
    infoHash: msg.toString('hex', 16, 36),
    peerId: msg.toString('hex', 36, 56),
    left: Number(msg.readBigUInt64BE(64)),
    event,
    numwant: numwant < 0 ? undefined : numwant,
    port
  }
}

function parseScrape (msg: Buffer, connectionId: Buffer, transactionId: number): UdpScrapeRequest {
  const hashBytes = msg.length - 16
  if (hashBytes === 0 || hashBytes % 20 !== 0) throw bad('a scrape request that is not a list of 20-byte infohashes')
  if (hashBytes / 20 > MAX_SCRAPE_HASHES) throw bad(`a scrape for more than ${MAX_SCRAPE_HASHES} infohashes`)
  const infoHashes: string[] = []
  for (let offset = 16; offset < msg.length; offset += 20) infoHashes.push(msg.toString('hex', offset, offset + 20))
  return { action: 'scrape', connectionId, transactionId, infoHashes }
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
  const head = Buffer.alloc(20)
  head.writeUInt32BE(ACTION_ANNOUNCE, 0)
  head.writeUInt32BE(response.transactionId, 4)
  head.writeUInt32BE(response.interval, 8)
  head.writeUInt32BE(response.leechers, 12)
  head.writeUInt32BE(response.seeders, 16)
  return Buffer.concat([head, response.peers])
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
