import { networkInterfaces } from 'node:os'

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
