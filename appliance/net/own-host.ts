import { isIP } from 'node:net'

/**
 * The names a browser may use to reach this box, lower-case: `localhost`, the machine's hostname,
 * `<hostname>.local` (mDNS), and the hosts written into its torrents (the announce host, the public
 * host). IP literals are always accepted besides (see `isOwnHost`).
 */
export function ownHostNames (hostname: string, ...torrentHosts: string[]): ReadonlySet<string> {
  return new Set(['localhost', hostname, `${hostname}.local`, ...torrentHosts].map((name) => hostOf(name)).filter((name) => name !== undefined))
}

/**
 * True when a request's `Host` header names this box: an IP literal or one of `names`, whatever the
 * port and case. A page of another site that rebinds its own name to the box's address (DNS
 * rebinding) still sends its own name, and is told apart by this.
 */
export function isOwnHost (hostHeader: string | undefined, names: ReadonlySet<string>): boolean {
  return ownHostOf(hostHeader, names) !== undefined
}

/** A `Host` header's host (lower-case, no final dot, IPv6 without brackets) and port, if any. */
export interface HostAndPort {
  readonly host: string
  readonly port?: number
}

/**
 * The host and port of a request's `Host` header when it names this box (see `isOwnHost`), else
 * undefined: what a response may safely write into URLs it hands back.
 */
export function ownHostOf (hostHeader: string | undefined, names: ReadonlySet<string>): HostAndPort | undefined {
  const parsed = parseHost(hostHeader ?? '')
  if (parsed === undefined) return undefined
  return isIP(parsed.host) !== 0 || names.has(parsed.host) ? parsed : undefined
}

function hostOf (header: string): string | undefined {
  return parseHost(header)?.host
}

/** A `Host` header (`name`, `name:port`, `[v6]:port`): the host lower-case, without a final dot; an empty or out-of-range port is none. */
function parseHost (header: string): HostAndPort | undefined {
  const text = header.trim().toLowerCase()
  if (isIP(text) === 6) return { host: text } // a bare IPv6 literal, as the configured announce host may be
  const match = /^\[([0-9a-f:.]+)\](?::(\d*))?$/.exec(text) ?? /^([^:[\]\s]+?)\.?(?::(\d*))?$/.exec(text)
  if (match === null) return undefined
  const port = match[2] === undefined || match[2] === '' ? undefined : Number(match[2])
  return port === undefined || port < 1 || port > 65535 ? { host: match[1]! } : { host: match[1]!, port }
}
