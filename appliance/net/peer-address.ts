import { isIP, isIPv4 } from 'node:net'

/**
 * A peer's address, as the tracker records it and the seeder dials it: an IP literal (never a host
 * name) and a port.
 */
export interface PeerAddress {
  readonly ip: string
  readonly port: number
}

/** Parses `1.2.3.4:6881` or `[2001:db8::1]:6881` (as bittorrent-tracker reports peers); bad ones give undefined. */
export function parsePeerAddress (text: string): PeerAddress | undefined {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([0-9.]+)):(\d{1,5})$/.exec(text)
  if (match === null) return undefined
  const ip = match[1] ?? match[2]!
  const port = Number(match[3])
  if (isIP(ip) === 0 || port < 1 || port > 65535) return undefined
  return { ip, port }
}

/** `ip:port`, with IPv6 addresses in brackets; an IPv4 peer reaching a dual-stack socket (`::ffff:a.b.c.d`) shows as IPv4. */
export function formatPeerAddress (ip: string, port: number): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)
  if (mapped !== null) return `${mapped[1]!}:${port}`
  return isIP(ip) === 6 ? `[${ip}]:${port}` : `${ip}:${port}`
}

/**
 * The form of a socket address handed to peers: an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`, what a
 * dual-stack socket reports for IPv4) becomes plain IPv4, and an IPv6 zone (`%eth0`) is dropped,
 * since it only means something on this host.
 */
export function normalizeAddress (address: string): string {
  const unzoned = address.replace(/%.*$/, '')
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(unzoned)
  return mapped === null ? unzoned.toLowerCase() : mapped[1]!
}

export function isLoopback (address: string): boolean {
  const normalized = normalizeAddress(address)
  return normalized === '::1' || (isIPv4(normalized) && normalized.startsWith('127.'))
}
