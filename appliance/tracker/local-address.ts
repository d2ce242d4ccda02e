import { isIPv4 } from 'node:net'
import { networkInterfaces } from 'node:os'

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

/**
 * Every address of every interface, loopback included, in a form `dgram.bind` accepts: link-local
 * IPv6 addresses carry their zone.
 */
export function listLocalAddresses (): string[] {
  return Object.entries(networkInterfaces()).flatMap(([name, addresses]) =>
    (addresses ?? []).map((entry) => entry.family === 'IPv6' && entry.scopeid !== undefined && entry.scopeid !== 0
      ? `${entry.address}%${name}`
      : entry.address))
}
