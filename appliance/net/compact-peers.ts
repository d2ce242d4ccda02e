import { isIPv4, isIPv6 } from 'node:net'
import type { PeerAddress } from '../net/peer-address.js'

/**
 * A compact peer list: BEP 23 for IPv4 (4 address bytes + 2 port bytes each), BEP 7 for IPv6
 * (16 + 2). Peers of the other family are left out.
 */
export function compactPeers (peers: readonly PeerAddress[], family: 4 | 6): Buffer {
  const matching = peers.filter((peer) => family === 4 ? isIPv4(peer.ip) : isIPv6(peer.ip))
  const size = family === 4 ? 6 : 18
  const out = Buffer.alloc(matching.length * size)
  matching.forEach((peer, index) => {
    const offset = index * size
    const address = family === 4 ? ipv4Bytes(peer.ip) : ipv6Bytes(peer.ip)
    address.copy(out, offset)
    out.writeUInt16BE(peer.port, offset + size - 2)
  })
  return out
}

function ipv4Bytes (ip: string): Buffer {
  return Buffer.from(ip.split('.').map(Number))
}

/** The 16 bytes of a valid IPv6 address, `::` runs and a dotted IPv4 tail included. */
function ipv6Bytes (ip: string): Buffer {
  const v4Tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(ip)
  const hex = v4Tail === null ? ip : ip.slice(0, v4Tail.index) + ipv4Groups(v4Tail[1]!)
  const [head = '', tail] = hex.split('::')
  const headGroups = head === '' ? [] : head.split(':')
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':')
  const zeros = new Array<string>(8 - headGroups.length - tailGroups.length).fill('0')
  const out = Buffer.alloc(16)
  ;[...headGroups, ...zeros, ...tailGroups].forEach((group, index) => out.writeUInt16BE(parseInt(group, 16), index * 2))
  return out
}

function ipv4Groups (ip: string): string {
  const bytes = ipv4Bytes(ip)
  return `${bytes.readUInt16BE(0).toString(16)}:${bytes.readUInt16BE(2).toString(16)}`
}
