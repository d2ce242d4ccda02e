import bencode from 'bencode'
import { encodedValueBytes, MAX_SALT_BYTES, MAX_VALUE_BYTES, PUBLIC_KEY_BYTES, SIGNATURE_BYTES } from './mutable-item.js'

/** Node ids and infohashes: 20 bytes (BEP 5). */
const ID_BYTES = 20
/** A compact node: id, IPv4 address, port (BEP 5). */
const COMPACT_NODE_BYTES = 26
/** A compact IPv4 peer (BEP 5); bittorrent-dht speaks IPv4 only. */
const COMPACT_PEER_BYTES = 6
/** Transaction ids are a few bytes (libtorrent: 2, bittorrent-dht: 2); longer ones are not echoed. */
const MAX_TRANSACTION_BYTES = 16
/** Tokens are opaque but short (bittorrent-dht: 20 bytes, libtorrent: 4). */
const MAX_TOKEN_BYTES = 64
/**
 * A KRPC datagram at most. The largest honest one is a get_peers answer with 100 peers and 8 nodes,
 * about 1 KB; anything far above it is dropped before it is decoded.
 */
export const MAX_KRPC_DATAGRAM = 4096

/** The queries the everseed's DHT node answers: BEP 5's four, and BEP 44's get and put (boxes' catalog pointers, BEP 46). */
const QUERIES = new Set(['ping', 'find_node', 'get_peers', 'announce_peer', 'get', 'put'])

type Dictionary = Record<string, unknown>

function isDictionary (value: unknown): value is Dictionary {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array)
}

function isBytes (value: unknown, min = 0, max = Infinity): value is Uint8Array {
  return value instanceof Uint8Array && value.length >= min && value.length <= max
}

function isInteger (value: unknown, min: number, max: number): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max
}

function text (value: Uint8Array): string {
  return Buffer.from(value.buffer, value.byteOffset, value.length).toString('latin1')
}

/**
 * Whether a datagram is a KRPC message (BEP 5) whose every field bittorrent-dht reads has the type
 * it expects: it trusts them, and a number where it expects a byte string throws in its socket
 * handler, which would end the process. Everything else is dropped unanswered.
 */
export function isWellFormedKrpc (datagram: Uint8Array): boolean {
  if (datagram.length > MAX_KRPC_DATAGRAM) return false
  let message: unknown
  try {
    message = bencode.decode(datagram)
  } catch {
    return false
  }
  if (!isDictionary(message) || !isBytes(message.t, 1, MAX_TRANSACTION_BYTES) || !isBytes(message.y, 1, 1)) return false
  switch (text(message.y)) {
    case 'q': return isWellFormedQuery(message)
    case 'r': return isWellFormedResponse(message.r)
    case 'e': return isWellFormedError(message.e)
    default: return false
  }
}

function isWellFormedQuery (message: Dictionary): boolean {
  const { q, a } = message
  if (!isBytes(q, 1, 32) || !QUERIES.has(text(q)) || !isDictionary(a) || !isBytes(a.id, ID_BYTES, ID_BYTES)) return false
  switch (text(q)) {
    case 'ping': return true
    case 'find_node': return isBytes(a.target, ID_BYTES, ID_BYTES)
    case 'get_peers': return isBytes(a.info_hash, ID_BYTES, ID_BYTES)
    case 'get': return isBytes(a.target, ID_BYTES, ID_BYTES) && (a.seq === undefined || isSequence(a.seq))
    case 'put': return isBytes(a.token, 1, MAX_TOKEN_BYTES) && isWellFormedItem(a) && (a.cas === undefined || isSequence(a.cas))
    default: // announce_peer
      return isBytes(a.info_hash, ID_BYTES, ID_BYTES) && isBytes(a.token, 1, MAX_TOKEN_BYTES) &&
        (a.implied_port === undefined || isInteger(a.implied_port, 0, 1)) &&
        (a.port === undefined ? a.implied_port === 1 : isInteger(a.port, 0, 65535))
  }
}

function isWellFormedResponse (r: unknown): boolean {
  if (!isDictionary(r) || !isBytes(r.id, ID_BYTES, ID_BYTES)) return false
  if (r.nodes !== undefined && !(isBytes(r.nodes) && r.nodes.length % COMPACT_NODE_BYTES === 0)) return false
  if (r.token !== undefined && !isBytes(r.token, 1, MAX_TOKEN_BYTES)) return false
  if (r.values !== undefined && !(Array.isArray(r.values) && r.values.every((value) => isBytes(value, COMPACT_PEER_BYTES, COMPACT_PEER_BYTES)))) return false
  // A BEP 44 `get` answer carries an item (or only `seq`, when the asker already has that one).
  if (r.v === undefined) return r.k === undefined && r.sig === undefined && (r.seq === undefined || isSequence(r.seq))
  return isWellFormedItem(r)
}

/** BEP 44: a sequence number is a whole number; beyond 2^53 JavaScript cannot compare it exactly. */
function isSequence (value: unknown): boolean {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
}

/**
 * A BEP 44 item in a put or a get answer: `v` of at most 1,000 bytes bencoded; a mutable one has a
 * 32-byte key, a 64-byte signature and a sequence number together (bittorrent-dht hashes `k`
 * whenever `sig` is there), and a salt of at most 64 bytes.
 */
function isWellFormedItem (item: Dictionary): boolean {
  const bytes = item.v === undefined ? undefined : encodedValueBytes(item.v)
  if (bytes === undefined || bytes > MAX_VALUE_BYTES) return false
  const mutable = item.k !== undefined || item.sig !== undefined || item.seq !== undefined || item.salt !== undefined
  if (!mutable) return true
  return isBytes(item.k, PUBLIC_KEY_BYTES, PUBLIC_KEY_BYTES) && isBytes(item.sig, SIGNATURE_BYTES, SIGNATURE_BYTES) &&
    isSequence(item.seq) && (item.salt === undefined || isBytes(item.salt, 1, MAX_SALT_BYTES))
}

function isWellFormedError (e: unknown): boolean {
  return Array.isArray(e) && e.length === 2 && isInteger(e[0], 0, 999) && isBytes(e[1], 0, 1024)
}
