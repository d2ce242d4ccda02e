/**
 * BEP 15 datagrams as bench-tracker's UDP load generator sends and reads them: written into buffers
 * it reuses, read without allocating, so that the generator stays cheap next to the tracker it loads.
 */

/** BEP 15: the magic constant of a connect request. */
const PROTOCOL_ID = 0x41727101980n

export const ACTION_CONNECT = 0
export const ACTION_ANNOUNCE = 1
export const ACTION_SCRAPE = 2
export const ACTION_ERROR = 3

export const CONNECT_LENGTH = 16
export const ANNOUNCE_LENGTH = 98

/** BEP 15 announce event ids. */
export const EVENT_NONE = 0
export const EVENT_STARTED = 2

export function encodeConnect (transactionId: number): Buffer {
  const out = Buffer.alloc(CONNECT_LENGTH)
  out.writeBigUInt64BE(PROTOCOL_ID, 0)
  out.writeUInt32BE(ACTION_CONNECT, 8)
  out.writeUInt32BE(transactionId, 12)
  return out
}

export interface Announce {
  readonly connectionId: Buffer
  readonly transactionId: number
  /** 20 bytes. */
  readonly infoHash: Buffer
  /** 20 bytes. */
  readonly peerId: Buffer
  readonly left: number
  readonly event: number
  /** -1: the tracker's default. */
  readonly numwant: number
  readonly port: number
}

/** Writes an announce into `out` (ANNOUNCE_LENGTH bytes, reused between sends); IP 0: the source address. */
export function writeAnnounce (out: Buffer, announce: Announce): Buffer {
  announce.connectionId.copy(out, 0, 0, 8)
  out.writeUInt32BE(ACTION_ANNOUNCE, 8)
  out.writeUInt32BE(announce.transactionId, 12)
  announce.infoHash.copy(out, 16, 0, 20)
  announce.peerId.copy(out, 36, 0, 20)
  out.writeBigUInt64BE(0n, 56) // downloaded
  out.writeBigUInt64BE(BigInt(announce.left), 64)
  out.writeBigUInt64BE(0n, 72) // uploaded
  out.writeUInt32BE(announce.event, 80)
  out.writeUInt32BE(0, 84) // IP address: the datagram's source
  out.writeUInt32BE(announce.transactionId ^ 0x5a5a5a5a, 88) // key
  out.writeInt32BE(announce.numwant, 92)
  out.writeUInt16BE(announce.port, 96)
  return out
}

export function encodeScrape (connectionId: Buffer, transactionId: number, infoHash: Buffer): Buffer {
  const out = Buffer.alloc(36)
  connectionId.copy(out, 0, 0, 8)
  out.writeUInt32BE(ACTION_SCRAPE, 8)
  out.writeUInt32BE(transactionId, 12)
  infoHash.copy(out, 16, 0, 20)
  return out
}

/** The action and transaction id every response starts with; undefined for a datagram too short to be one. */
export function responseHead (msg: Buffer): { readonly action: number, readonly transactionId: number } | undefined {
  if (msg.length < 8) return undefined
  return { action: msg.readUInt32BE(0), transactionId: msg.readUInt32BE(4) }
}

/** The connection id of a connect response, or undefined if `msg` is not one. */
export function connectionIdOf (msg: Buffer): Buffer | undefined {
  if (msg.length < 16 || msg.readUInt32BE(0) !== ACTION_CONNECT) return undefined
  return Buffer.from(msg.subarray(8, 16))
}

export interface AnnounceAnswer {
  readonly interval: number
  readonly leechers: number
  readonly seeders: number
  /** Compact IPv4 peers handed out. */
  readonly peers: number
}

export function parseAnnounceAnswer (msg: Buffer): AnnounceAnswer | undefined {
  if (msg.length < 20 || msg.readUInt32BE(0) !== ACTION_ANNOUNCE) return undefined
  return { interval: msg.readUInt32BE(8), leechers: msg.readUInt32BE(12), seeders: msg.readUInt32BE(16), peers: Math.floor((msg.length - 20) / 6) }
}

export interface ScrapeAnswer {
  readonly seeders: number
  readonly completed: number
  readonly leechers: number
}

/** The counts of the first (only) infohash of a scrape response. */
export function parseScrapeAnswer (msg: Buffer): ScrapeAnswer | undefined {
  if (msg.length < 20 || msg.readUInt32BE(0) !== ACTION_SCRAPE) return undefined
  return { seeders: msg.readUInt32BE(8), completed: msg.readUInt32BE(12), leechers: msg.readUInt32BE(16) }
}

/** The message of an error response. */
export function errorMessageOf (msg: Buffer): string | undefined {
  if (msg.length < 8 || msg.readUInt32BE(0) !== ACTION_ERROR) return undefined
  return msg.toString('utf8', 8)
}
