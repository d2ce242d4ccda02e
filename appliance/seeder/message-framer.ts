/** BEP 3 handshake: <pstrlen=19><pstr><8 reserved><20 info_hash><20 peer_id>. */
const PROTOCOL = Buffer.from('\x13BitTorrent protocol', 'latin1')
const HANDSHAKE_LENGTH = PROTOCOL.length + 8 + 20 + 20
/** BEP 52: the reserved bit of a peer that speaks v2 too (the last reserved byte, 0x10). */
const V2_BYTE = PROTOCOL.length + 7
const V2_BIT = 0x10

/**
 * The largest message a peer may send a seed. The biggest legitimate ones are a bitfield (1 bit per
 * piece: 64 KiB covers half a million pieces) and a BEP 9 metadata block (16 KiB plus its dictionary).
 */
export const MAX_MESSAGE_LENGTH = 64 * 1024

export type FramingProblem = 'bad-handshake' | 'oversized-message'

/**
 * Follows the framing of the bytes a peer sends, without buffering them, so a violation is caught
 * before `bittorrent-protocol`'s Wire sees it: that Wire waits for and buffers as many bytes as a
 * length prefix announces, so a peer announcing a 2 GiB message could make it hold up to 2 GiB.
 */
export class MessageFramer {
  private readonly maxMessageLength: number
  private handshakeSeen = 0
  private v2Bit = false
  private readonly lengthBytes = Buffer.alloc(4)
  private lengthSeen = 0
  private bodyLeft = 0

  constructor (maxMessageLength = MAX_MESSAGE_LENGTH) {
    this.maxMessageLength = maxMessageLength
  }

  /** The peer's handshake set the BEP 52 bit (known once its handshake has been pushed). */
  get peerOffersV2 (): boolean {
    return this.v2Bit
  }

  /** Follows the next bytes from the peer; returns the first problem found, after which the connection must end. */
  push (chunk: Uint8Array): FramingProblem | undefined {
    let at = 0
    while (at < chunk.length) {
      if (this.handshakeSeen < HANDSHAKE_LENGTH) {
        const take = Math.min(HANDSHAKE_LENGTH - this.handshakeSeen, chunk.length - at)
        for (let i = 0; i < take; i++) {
          const position = this.handshakeSeen + i
          if (position < PROTOCOL.length && chunk[at + i] !== PROTOCOL[position]) return 'bad-handshake'
          if (position === V2_BYTE) this.v2Bit = (chunk[at + i]! & V2_BIT) !== 0
        }
        this.handshakeSeen += take
        at += take
      } else if (this.bodyLeft > 0) {
        const take = Math.min(this.bodyLeft, chunk.length - at)
        this.bodyLeft -= take
        at += take
      } else {
        this.lengthBytes[this.lengthSeen++] = chunk[at++]!
        if (this.lengthSeen < 4) continue
        this.lengthSeen = 0
        const length = this.lengthBytes.readUInt32BE(0)
        if (length > this.maxMessageLength) return 'oversized-message'
        this.bodyLeft = length
      }
    }
    return undefined
  }
}
