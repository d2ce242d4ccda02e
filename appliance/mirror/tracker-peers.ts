import bencode from 'bencode'
import type { PeerEndpoint } from '../download/download.js'
import { boundedGet } from './bounded-get.js'

/** Peers taken from one tracker answer at most. */
export const MAX_TRACKER_PEERS = 200
const MAX_ANSWER_BYTES = 64 * 1024
const ANNOUNCE_TIMEOUT_MS = 10_000

export interface AnnounceRequest {
  readonly infoHash: string
  readonly peerId: Buffer
  /** The port this box's everseed listens on. */
  readonly port: number
  readonly left: number
}

/** One HTTP announce (BEP 3, compact BEP 23): the peers the tracker names; any failure is an empty list. */
export async function trackerPeers (announceUrl: string, request: AnnounceRequest, signal: AbortSignal): Promise<PeerEndpoint[]> {
  let url: URL
  try {
    url = new URL(announceUrl)
  } catch {
    return []
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return []
  const query = [
    `info_hash=${percentBytes(Buffer.from(request.infoHash, 'hex'))}`,
    `peer_id=${percentBytes(request.peerId)}`,
    `port=${request.port}`, 'uploaded=0', 'downloaded=0', `left=${request.left}`, 'compact=1', 'numwant=50', 'event=started'
  ].join('&')
  const full = `${url.href}${url.search === '' ? '?' : '&'}${query}`
  try {
    return peersOfAnswer(await boundedGet(full, { maxBytes: MAX_ANSWER_BYTES, timeoutMs: ANNOUNCE_TIMEOUT_MS, signal }))
  } catch {
    return []
  }
}

/** The `peers` of a tracker's bencoded answer, compact (6 bytes each) or as dictionaries; anything else: none. */
export function peersOfAnswer (body: Uint8Array): PeerEndpoint[] {
  let answer: unknown
  try {
    answer = bencode.decode(Buffer.from(body))
  } catch {
    return []
  }
  if (typeof answer !== 'object' || answer === null) return []
  const peers = (answer as Record<string, unknown>).peers
  const found: PeerEndpoint[] = []
  if (peers instanceof Uint8Array) {
    for (let at = 0; at + 6 <= peers.length && found.length < MAX_TRACKER_PEERS; at += 6) {
      found.push({ host: `${peers[at]!}.${peers[at + 1]!}.${peers[at + 2]!}.${peers[at + 3]!}`, port: peers[at + 4]! * 256 + peers[at + 5]! })
    }
  } else if (Array.isArray(peers)) {
    for (const peer of peers.slice(0, MAX_TRACKER_PEERS)) {
      if (typeof peer !== 'object' || peer === null) continue
      const { ip, port } = peer as Record<string, unknown>
      if (ip instanceof Uint8Array && typeof port === 'number') found.push({ host: Buffer.from(ip).toString('latin1'), port })
    }
  }
  return found.filter((peer) => peer.port > 0 && peer.port < 65536)
}

function percentBytes (bytes: Buffer): string {
  return [...bytes].map((byte) => `%${byte.toString(16).padStart(2, '0')}`).join('')
}
