import { readFile } from 'node:fs/promises'

/**
 * The IPv4 default gateway from the kernel's routing table as /proc/net/route shows it (hex,
 * little-endian addresses): the route to 00000000 with the gateway flag, lowest metric first.
 */
export function defaultGatewayOf (routeTable: string): string | undefined {
  const RTF_UP_GATEWAY = 0x3
  const routes = routeTable.split('\n').slice(1).map((line) => line.trim().split(/\s+/)).filter((fields) => fields.length >= 8)
  const defaults = routes
    .filter(([, destination, gateway, flags]) => destination === '00000000' && gateway !== '00000000' && (Number.parseInt(flags!, 16) & RTF_UP_GATEWAY) === RTF_UP_GATEWAY)
    .sort((a, b) => Number(a[6]) - Number(b[6]))
  const hex = defaults[0]?.[2]
  if (hex === undefined || !/^[0-9A-Fa-f]{8}$/.test(hex)) return undefined
  return [3, 2, 1, 0].map((byte) => Number.parseInt(hex.slice(byte * 2, byte * 2 + 2), 16)).join('.')
}

export async function readDefaultGateway (path = '/proc/net/route'): Promise<string | undefined> {
  try {
    return defaultGatewayOf(await readFile(path, 'utf8'))
  } catch {
    return undefined
  }
}
