/** What the everseed uses of a peer's BEP 10 extended handshake. */
export interface PeerExtensions {
  /** `p`: the TCP port it accepts connections on, if it said. */
  readonly listenPort: number | undefined
  /** `m.ut_pex`: its extended message id for BEP 11 peer exchange, if it takes PEX messages. */
  readonly pexId: number | undefined
  /** `e` = 1: it prefers MSE encryption. */
  readonly prefersEncryption: boolean
  /** BEP 21 `upload_only` = 1: a seed or a peer that only uploads. */
  readonly uploadOnly: boolean
}

export const NO_EXTENSIONS: PeerExtensions = { listenPort: undefined, pexId: undefined, prefersEncryption: false, uploadOnly: false }

/**
 * Reads the peer's decoded extended handshake, which can be any bencoded value: a field of the wrong
 * type or out of range counts as absent, never as an error.
 */
export function readPeerExtensions (handshake: unknown): PeerExtensions {
  if (!isDictionary(handshake)) return NO_EXTENSIONS
  const messages = handshake.m
  return {
    listenPort: integerIn(handshake.p, 1, 65535),
    // BEP 10: message ids are one byte; 0 means the peer turned the extension off.
    pexId: isDictionary(messages) ? integerIn(messages.ut_pex, 1, 255) : undefined,
    prefersEncryption: handshake.e === 1,
    uploadOnly: handshake.upload_only === 1
  }
}

function isDictionary (value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !ArrayBuffer.isView(value) && !Array.isArray(value)
}

function integerIn (value: unknown, min: number, max: number): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max ? value : undefined
}
