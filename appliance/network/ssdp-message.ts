// SSDP (UPnP Device Architecture 1.1 §1.3): an M-SEARCH over UDP multicast, answered by unicast
// HTTP-like responses whose LOCATION header names the device description.

export const SSDP_ADDRESS = '239.255.255.250'
export const SSDP_PORT = 1900

/** The device types searched for: IGD version 1 and 2 (a router answers for what it is). */
export const GATEWAY_SEARCH_TARGETS = [
  'urn:schemas-upnp-org:device:InternetGatewayDevice:1',
  'urn:schemas-upnp-org:device:InternetGatewayDevice:2'
] as const

/** A response longer than this is no SSDP answer. */
const MAX_RESPONSE_BYTES = 4096

export function mSearchMessage (searchTarget: string, waitSeconds: number): Buffer {
  return Buffer.from([
    'M-SEARCH * HTTP/1.1',
    `HOST: ${SSDP_ADDRESS}:${SSDP_PORT}`,
    'MAN: "ssdp:discover"',
    `MX: ${waitSeconds}`,
    `ST: ${searchTarget}`,
    '', ''
  ].join('\r\n'))
}

/**
 * The description URL in a search response, if it is one: a 200 status line, a LOCATION that is an
 * http URL on the host that sent the response (a device on the LAN cannot send us elsewhere).
 */
export function descriptionLocation (datagram: Buffer, from: string): URL | undefined {
  if (datagram.length > MAX_RESPONSE_BYTES) return undefined
  const lines = datagram.toString('latin1').split('\r\n')
  if (!/^HTTP\/1\.[01] 200\b/.test(lines[0] ?? '')) return undefined
  const header = lines.find((line) => /^location\s*:/i.test(line))
  if (header === undefined) return undefined
  let location: URL
  try {
    location = new URL(header.slice(header.indexOf(':') + 1).trim())
  } catch {
    return undefined
  }
  return location.protocol === 'http:' && location.hostname === from ? location : undefined
}
