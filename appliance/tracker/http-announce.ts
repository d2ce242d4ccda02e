import bencode from 'bencode'
import type { PeerAddress } from '../net/peer-address.js'
import { clampNumwant, type AnnounceEventName, type AnnounceRequest } from './announce.js'
import { compactPeers } from '../net/compact-peers.js'
import { TrackerError } from './errors.js'
import { parseTrackerQuery } from './tracker-query.js'

// BEP 3 HTTP announces, with BEP 23 compact and BEP 7 IPv6 peer lists: parsing and encoding only.

export interface HttpAnnounceRequest extends AnnounceRequest {
  /** BEP 23; compact unless the client asked for `compact=0`. */
  readonly compact: boolean
  /** BEP 23's `no_peer_id`, for non-compact lists. */
  readonly noPeerId: boolean
}

/** A peer in a response; the everseed has no `peerId`, since the tracker does not know it. */
export interface HandedOutPeer extends PeerAddress {
  /** Hex. */
  readonly peerId?: string
}

export interface HttpAnnounceResponse {
  /** Seconds. */
  readonly interval: number
  readonly complete: number
  readonly incomplete: number
  readonly peers: readonly HandedOutPeer[]
}

const EVENTS: Readonly<Record<string, AnnounceEventName>> = { started: 'started', completed: 'completed', stopped: 'stopped', empty: 'update', '': 'update' }

/** Reads an announce URL's query; the BEP 3 `ip` parameter is ignored, peers are recorded at their source address. */
export function parseHttpAnnounce (url: string): HttpAnnounceRequest {
  const query = parseTrackerQuery(url)
  const single = (key: string): Buffer | undefined => {
    const values = query.get(key)
    if (values !== undefined && values.length > 1) throw bad(`${key} given ${values.length} times`)
    return values?.[0]
  }
  const infoHash = single('info_hash')
  if (infoHash?.length !== 20) throw bad('info_hash must be 20 bytes')
  const peerId = single('peer_id')
  if (peerId?.length !== 20) throw bad('peer_id must be 20 bytes')
  const port = integer(single('port'), 'port')
  if (port === undefined || port < 1 || port > 65535) throw bad('port must be 1 to 65535')
  const eventText = single('event')?.toString('latin1') ?? ''
  const event = Object.hasOwn(EVENTS, eventText) ? EVENTS[eventText] : undefined
  if (event === undefined) throw bad(`unknown event "${eventText}"`)
  return {
    infoHash: infoHash.toString('hex'),
    peerId,
    port,
    left: integer(single('left'), 'left') ?? Infinity,
    event,
    numwant: clampNumwant(integer(single('numwant'), 'numwant')),
    compact: single('compact')?.toString('latin1') !== '0',
    noPeerId: single('no_peer_id')?.toString('latin1') === '1'
  }
}

/**
 * A compact response (BEP 23, BEP 7) around compact peer lists already written, bencoded by hand
 * straight into the one buffer sent: keys in sorted order, as bencode requires.
 */
export function encodeCompactAnnounceResponse (counts: { readonly interval: number, readonly complete: number, readonly incomplete: number }, peers4: Buffer, peers6: Buffer): Buffer {
  const head = `d8:completei${counts.complete}e10:incompletei${counts.incomplete}e8:intervali${counts.interval}e5:peers${peers4.length}:`
  const middle = `6:peers6${peers6.length}:`
  const out = Buffer.allocUnsafe(head.length + peers4.length + middle.length + peers6.length + 1)
  let offset = out.write(head, 0, 'latin1')
  offset += peers4.copy(out, offset)
  offset += out.write(middle, offset, 'latin1')
  offset += peers6.copy(out, offset)
  out[offset] = 0x65 // e
  return out
}

export function encodeHttpAnnounceResponse (request: HttpAnnounceRequest, response: HttpAnnounceResponse): Buffer {
  const head = { interval: response.interval, complete: response.complete, incomplete: response.incomplete }
  if (request.compact) {
    return Buffer.from(bencode.encode({ ...head, peers: compactPeers(response.peers, 4), peers6: compactPeers(response.peers, 6) }))
  }
  const peers = response.peers.map((peer) => ({
    ip: peer.ip,
    port: peer.port,
    ...(peer.peerId !== undefined && !request.noPeerId && { 'peer id': Buffer.from(peer.peerId, 'hex') })
  }))
  return Buffer.from(bencode.encode({ ...head, peers }))
}

/** BEP 3: a response with a failure reason and nothing else. */
export function encodeTrackerFailure (reason: string): Buffer {
  return Buffer.from(bencode.encode({ 'failure reason': reason }))
}

/** A non-negative integer parameter; absent is `undefined`, anything else that is not digits is an error. */
function integer (value: Buffer | undefined, key: string): number | undefined {
  if (value === undefined) return undefined
  const text = value.toString('latin1')
  if (!/^\d{1,15}$/.test(text)) throw bad(`${key} must be a non-negative integer`)
  return Number(text)
}

function bad (detail: string): TrackerError {
  return new TrackerError('ET_BAD_REQUEST', `bad announce: ${detail}`)
}
