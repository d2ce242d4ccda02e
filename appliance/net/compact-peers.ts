import { isIPv4, isIPv6 } from 'node:net'
import type { PeerAddress } from './peer-address.js'

/** Bytes of one compact peer: BEP 23 for IPv4 (4 address bytes + 2 port bytes), BEP 7 for IPv6 (16 + 2). */
export const COMPACT_BYTES = { 4: 6, 6: 18 } as const

/**
 * A compact peer list: BEP 23 for IPv4 (4 address bytes + 2 port bytes each), BEP 7 for IPv6
 * (16 + 2). Peers of the other family are left out.
 */
export function compactPeers (peers: readonly PeerAddress[], family: 4 | 6): Buffer {
  const matching = peers.filter((peer) => family === 4 ? isIPv4(peer.ip) : isIPv6(peer.ip))
  const size = COMPACT_BYTES[family]
  const out = Buffer.alloc(matching.length * size)
  matching.forEach((peer, index) => { writeCompactPeer(peer.ip, peer.port, out, index * size) })
  return out
}

/**
 * Writes `ip` and `port` in compact form at `offset` (6 bytes for IPv4, 18 for IPv6) and returns the
 * family, or 0 (nothing written) when `ip` is not an IP literal. No allocation for IPv4, the
 * tracker's hot path.
 */
export function writeCompactPeer (ip: string, port: number, out: Buffer, offset: number): 4 | 6 | 0 {
  if (writeIPv4(ip, out, offset)) {
    out.writeUInt16BE(port, offset + 4)
    return 4
  }
  if (!isIPv6(ip)) return 0
  writeIPv6(ip, out, offset)
  out.writeUInt16BE(port, offset + 16)
  return 6
}

/** Reads a compact peer back: 6 bytes at `offset` for IPv4, 18 for IPv6. */
export function readCompactPeer (bytes: Buffer, offset: number, family: 4 | 6): PeerAddress {
  if (family === 4) {
    return { ip: `${bytes[offset]!}.${bytes[offset + 1]!}.${bytes[offset + 2]!}.${bytes[offset + 3]!}`, port: bytes.readUInt16BE(offset + 4) }
  }
  const groups: string[] = []
  for (let index = 0; index < 8; index++) groups.push(bytes.readUInt16BE(offset + index * 2).toString(16))
  return { ip: shortenIPv6(groups), port: bytes.readUInt16BE(offset + 16) }
}

/** Dotted-quad IPv4 into 4 bytes; false (and bytes left unspecified) when `ip` is not one. */
function writeIPv4 (ip: string, out: Buffer, offset: number): boolean {
  let octet = 0
  let digits = 0
  let index = 0
  for (let at = 0; at < ip.length; at++) {
    const code = ip.charCodeAt(at)
    if (code >= 48 && code <= 57) {
      // No leading zeros: `010` is octal to some parsers, and not an address Node reports.
      if (digits === 1 && octet === 0) return false
      octet = octet * 10 + code - 48
      digits += 1
      if (octet > 255) return false
    } else if (code === 46 && digits > 0 && index < 3) {
      out[offset + index++] = octet
      octet = 0
      digits = 0
    } else {
      return false
    }
  }
  if (digits === 0 || index !== 3) return false
  out[offset + 3] = octet
  return true
}

/** The 16 bytes of a valid IPv6 address, `::` runs and a dotted IPv4 tail included. */
function writeIPv6 (ip: string, out: Buffer, offset: number): void {
  const v4Tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(ip)
  const hex = v4Tail === null ? ip : ip.slice(0, v4Tail.index) + ipv4Groups(v4Tail[1]!)
  const [head = '', tail] = hex.split('::')
  const headGroups = head === '' ? [] : head.split(':')
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':')
  const zeros = new Array<string>(8 - headGroups.length - tailGroups.length).fill('0')
  ;[...headGroups, ...zeros, ...tailGroups].forEach((group, index) => out.writeUInt16BE(parseInt(group, 16), offset + index * 2))
}

function ipv4Groups (ip: string): string {
  const bytes = Buffer.alloc(4)
  writeIPv4(ip, bytes, 0)
  return `${bytes.readUInt16BE(0).toString(16)}:${bytes.readUInt16BE(2).toString(16)}`
}

/** RFC 5952: the longest run of two or more zero groups becomes `::`. */
function shortenIPv6 (groups: readonly string[]): string {
  let bestStart = -1
  let bestLength = 1
  for (let start = 0; start < 8; start++) {
    let length = 0
    while (start + length < 8 && groups[start + length] === '0') length++
    if (length > bestLength) {
      bestStart = start
      bestLength = length
    }
  }
  if (bestStart === -1) return groups.join(':')
  return `${groups.slice(0, bestStart).join(':')}::${groups.slice(bestStart + bestLength).join(':')}`
}
