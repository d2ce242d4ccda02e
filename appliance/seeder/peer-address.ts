import { isIP } from 'node:net'

export interface PeerAddress {
  readonly host: string
  readonly port: number
}

/** Parses `1.2.3.4:6881` or `[2001:db8::1]:6881` (as bittorrent-tracker reports peers); bad ones give undefined. */
export function parsePeerAddress (text: string): PeerAddress | undefined {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([0-9.]+)):(\d{1,5})$/.exec(text)
  if (match === null) return undefined
  const host = match[1] ?? match[2]!
  const port = Number(match[3])
  if (isIP(host) === 0 || port < 1 || port > 65535) return undefined
  return { host, port }
}

/** `host:port`, with IPv6 hosts in brackets; an IPv4 peer reaching a dual-stack socket (`::ffff:a.b.c.d`) shows as IPv4. */
export function formatPeerAddress (host: string, port: number): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(host)
  if (mapped !== null) return `${mapped[1]!}:${port}`
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`
}
