/** BEP 14: the multicast group and port of local service discovery over IPv4. */
export const LSD_GROUP = '239.192.152.143'
export const LSD_PORT = 6771

/** BEP 14 keeps an announce within one unfragmented datagram. */
export const MAX_DATAGRAM = 1400

export interface LsdAnnounce {
  /** The TCP port the announcing peer accepts connections on. */
  readonly port: number
  /** Lower-case hex infohashes. */
  readonly infoHashes: readonly string[]
  /** Lets a client recognise (and ignore) its own announces looped back to it. */
  readonly cookie: string | undefined
}

/**
 * Encodes announces of `infoHashes` as BT-SEARCH messages (BEP 14), as many infohashes per
 * datagram as fit in 1,400 bytes.
 */
export function encodeLsdAnnounces (announce: LsdAnnounce, host = `${LSD_GROUP}:${LSD_PORT}`): Buffer[] {
  const head = `BT-SEARCH * HTTP/1.1\r\nHost: ${host}\r\nPort: ${announce.port}\r\n`
  const tail = `${announce.cookie === undefined ? '' : `cookie: ${announce.cookie}\r\n`}\r\n\r\n`
  const messages: Buffer[] = []
  let lines: string[] = []
  let size = head.length + tail.length
  for (const infoHash of announce.infoHashes) {
    const line = `Infohash: ${infoHash}\r\n`
    if (lines.length > 0 && size + line.length > MAX_DATAGRAM) {
      messages.push(Buffer.from(head + lines.join('') + tail, 'latin1'))
      lines = []
      size = head.length + tail.length
    }
    lines.push(line)
    size += line.length
  }
  if (lines.length > 0) messages.push(Buffer.from(head + lines.join('') + tail, 'latin1'))
  return messages
}

/** Parses a BT-SEARCH datagram; anything else (or a malformed one) gives undefined. */
export function parseLsdAnnounce (datagram: Uint8Array): LsdAnnounce | undefined {
  if (datagram.length > 4 * MAX_DATAGRAM) return undefined
  const lines = Buffer.from(datagram).toString('latin1').split('\r\n')
  if (lines[0] !== 'BT-SEARCH * HTTP/1.1') return undefined
  let port: number | undefined
  let cookie: string | undefined
  const infoHashes: string[] = []
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':')
    if (colon <= 0) continue
    const name = line.slice(0, colon).trim().toLowerCase()
    const value = line.slice(colon + 1).trim()
    if (name === 'port' && /^\d{1,5}$/.test(value)) port = Number(value)
    else if (name === 'infohash' && /^[0-9a-fA-F]{40}$/.test(value)) infoHashes.push(value.toLowerCase())
    else if (name === 'cookie') cookie = value
  }
  if (port === undefined || port < 1 || port > 65535 || infoHashes.length === 0) return undefined
  return { port, infoHashes, cookie }
}
