import { createHash } from 'node:crypto'
import bencode from 'bencode'
import type { InfoHash } from '../metainfo/metainfo.js'
import { endOfValue } from '../metainfo/bencode-span.js'

/** BEP 9: the info dictionary travels in pieces of 16 KiB. */
const METADATA_PIECE = 16 * 1024
const [REQUEST, DATA, REJECT] = [0, 1, 2]

/** What one peer's metadata exchange reports. */
export interface MetadataSink {
  /** The info dictionary's bytes, whose SHA-1 is the infohash. */
  metadata (infoBytes: Buffer): void
  /** The peer cannot give it (no ut_metadata, a size out of bounds, a reject) or gave bytes of another torrent. */
  failed (reason: string): void
}

/** The part of bittorrent-protocol's Wire the exchange uses. */
interface ExtendedWire {
  extended (ext: string, payload: Uint8Array): void
}

/**
 * BEP 9 ut_metadata, the fetching side, as a bittorrent-protocol extension: once the peer's extended
 * handshake names ut_metadata and a `metadata_size` within `maxBytes`, asks for the pieces one after
 * the other and checks the whole against the infohash. Requests from the peer are rejected: a
 * download that has no metadata has none to give.
 */
export function metadataExchange (infoHash: InfoHash, maxBytes: number, sink: MetadataSink): new (wire: ExtendedWire) => object {
  class MetadataExchange {
    private size = 0
    private buffer: Buffer | undefined
    private next = 0
    private done = false

    constructor (private readonly wire: ExtendedWire) {}

    onExtendedHandshake (handshake: Record<string, unknown>): void {
      const size = handshake.metadata_size
      if (typeof size !== 'number' || !Number.isSafeInteger(size) || size <= 0 || size > maxBytes) {
        this.fail(`metadata_size ${String(size)} is not within 1..${maxBytes} bytes`)
        return
      }
      if (this.buffer !== undefined) return
      this.size = size
      this.buffer = Buffer.alloc(size)
      this.request()
    }

    onMessage (payload: Uint8Array): void {
      if (this.done) return
      const bytes = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength)
      const end = endOfValue(bytes, 0)
      if (end < 0) return this.fail('a ut_metadata message that is not bencoded')
      let message: unknown
      try {
        message = bencode.decode(bytes.subarray(0, end))
      } catch {
        return this.fail('a ut_metadata message that is not bencoded')
      }
      if (typeof message !== 'object' || message === null) return this.fail('a ut_metadata message that is not a dictionary')
      const { msg_type: type, piece } = message as Record<string, unknown>
      if (type === REQUEST && typeof piece === 'number') return this.send({ msg_type: REJECT, piece })
      if (type === REJECT) return this.fail('it rejected a metadata request')
      if (type !== DATA || piece !== this.next || this.buffer === undefined) return
      this.receive(bytes.subarray(end))
    }

    private receive (data: Buffer): void {
      const buffer = this.buffer!
      const expected = Math.min(METADATA_PIECE, this.size - this.next * METADATA_PIECE)
      if (data.length !== expected) return this.fail(`metadata piece ${this.next} is ${data.length} bytes, not ${expected}`)
      data.copy(buffer, this.next * METADATA_PIECE)
      this.next++
      if (this.next * METADATA_PIECE < this.size) return this.request()
      this.done = true
      this.buffer = undefined
      if (createHash('sha1').update(buffer).digest('hex') !== infoHash) sink.failed('its metadata does not hash to the infohash')
      else sink.metadata(buffer)
    }

    private request (): void {
      this.send({ msg_type: REQUEST, piece: this.next })
    }

    private send (message: Record<string, number>): void {
      try {
        this.wire.extended('ut_metadata', bencode.encode(message))
      } catch {
        this.fail('it does not take ut_metadata messages')
      }
    }

    private fail (reason: string): void {
      if (this.done) return
      this.done = true
      this.buffer = undefined
      sink.failed(reason)
    }
  }
  Object.defineProperty(MetadataExchange.prototype, 'name', { value: 'ut_metadata' })
  return MetadataExchange
}
