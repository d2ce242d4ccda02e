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
  const host = hostOf(hostHeader ?? '')
  if (host === undefined) return false
  return isIP(host) !== 0 || names.has(host)
}

/** The host part of a `Host` header (`name`, `name:port`, `[v6]:port`), lower-case, without a final dot. */
function hostOf (header: string): string | undefined {
  const text = header.trim().toLowerCase()
  const bracketed = /^\[([0-9a-f:.]+)\](?::\d*)?$/.exec(text)
  if (bracketed !== null) return bracketed[1]
  if (isIP(text) === 6) return text // a bare IPv6 literal, as the configured announce host may be
  const named = /^([^:[\]\s]+?)\.?(?::\d*)?$/.exec(text)
  return named?.[1]
}
