import Wire, { type ExtensionConstructor } from 'bittorrent-protocol'
import utMetadata from 'ut_metadata'
import type { InfoHash } from '../metainfo/metainfo.js'
import { HASH_REJECT_ID, HASH_REQUEST_ID, HASHES_ID } from './hash-message.js'
import { readPeerExtensions, type PeerExtensions } from './peer-extensions.js'
import type { PeerDirection } from './seeder-events.js'

// The one door to bittorrent-protocol's Wire and ut_metadata. The wire speaks plaintext: MSE/PE is
// ours (mse/), in PeerSession, between the socket and this door. Beyond their READMEs it relies on: the
// wire handing a block to 'data' as the very buffer it was answered with, never reading it again (the
// session ciphers it in place under MSE), and counting it in `uploaded` at once (or not at all when the
// request was cancelled or rejected meanwhile); the BEP 10 handshake
// being built from `extendedHandshake` only after the 'handshake' listeners return (or by `handshake`),
// and ut_metadata putting `metadata_size` there as soon as it is used; the wire ending itself
// ('finish') on the violations it detects; requests while we choke never reaching us; for BEP 11, a
// class `use`d under the name `ut_pex` landing in our `m`, the peer's later extended handshakes
// replacing `peerExtendedHandshake` too, and `extended(id, bytes)` sending the bytes as they are; for
// BEP 52, our handshake leaving as one 68-byte chunk, the first, messages it does not know (21 to 23)
// reaching 'unknownmessage' whole, their id first, and a chunk we `push` ourselves joining its output
// queue in order (its messages reach 'data' a tick after they are sent).
// test/contracts/bittorrent-protocol.test.ts, bittorrent-protocol-pex.test.ts and ut-metadata.test.ts
// pin each of them.

/** BEP 52: a peer that speaks v2 sets the fourth most significant bit of the last reserved byte. */
const V2_BIT = 0x10
/** BEP 3: <19><'BitTorrent protocol'><8 reserved><20 infohash><20 peer id>; the last reserved byte is the 41st byte from its end. */
const HANDSHAKE_BYTES = 68

/** The wire's answer to one request, opaque to the session: pass it to `answer` or `refuse`. */
export type Respond = (error: Error | null, block?: Uint8Array) => void

/** What a PeerWire tells its session. */
export interface PeerWireListener {
  /** BEP 3: the peer's handshake, infohash and peer id in lower-case hex. Call `describe` from here. */
  handshake (infoHash: InfoHash, peerId: string): void
  /** The peer became interested or uninterested (see `peerInterested`). */
  interestChanged (): void
  /** A request while we do not choke the peer (while we do, the wire refuses it itself). */
  request (index: number, offset: number, length: number, respond: Respond): void
  cancel (index: number, offset: number, length: number): void
  /** BEP 6 HaveAll, from a peer with the fast extension. */
  haveAll (): void
  bitfield (bitfield: Uint8Array): void
  /** A BEP 52 hash request (message 21), its id first: answer it with `sendHashMessage`. */
  hashRequest (message: Uint8Array): void
  /** A BEP 9 ut_metadata message, already answered. */
  metadataMessage (): void
  /** The peer's BEP 10 extended handshake, the first or a later one. */
  extensions (extensions: PeerExtensions): void
  /** Piece bytes accepted for sending. */
  uploaded (bytes: number): void
  /** Bytes for the socket, in order; `block` when it is a block given to `answer`, as that very buffer (ours to change); any other chunk may still be the wire's. */
  output (chunk: Uint8Array, block: boolean): void
  /**
   * The wire ended itself on a violation it detected (a bad protocol string, BEP 6 messages without
   * the fast extension), or the peer sent BEP 52 `hashes` or `hash reject`, answers to requests a seed never makes.
   */
  violation (): void
}

/** What our BEP 10 extended handshake says. */
export interface ExtendedHandshake {
  /** The bencoded info dictionary, served over BEP 9 ut_metadata (its length is `metadata_size`). */
  readonly infoBytes: Uint8Array
  /** `v`: our name and version. */
  readonly clientName: string
  /** `reqq`: outstanding requests we queue before refusing more. */
  readonly maxRequests: number
  /** Offer BEP 11 `ut_pex` in `m`, so that peers take the PEX messages we send. */
  readonly pex: boolean
}

/**
 * Puts `ut_pex` into our BEP 10 handshake's `m` (libtorrent drops PEX from a peer that does not list
 * it). The PEX messages peers send us are dropped unread: the everseed is a seed and needs no peers.
 */
class IgnoredPex {
  onMessage (): void {}
}
Object.defineProperty(IgnoredPex.prototype, 'name', { value: 'ut_pex' })

/**
 * One peer's BEP 3 wire, with BEP 6 (fast), BEP 10 and BEP 9 (serving the info dictionary): bytes in
 * through `receive`, bytes out through the listener's `output`, messages both ways in our terms.
 */
export class PeerWire {
  private readonly wire: Wire
  private readonly listener: PeerWireListener
  /** Blocks answered and not yet handed to `output`. */
  private readonly unsent = new Set<Uint8Array>()
  private destroyed = false
  /** The peer's id for `ut_pex` messages, from its latest extended handshake. */
  private pexId: number | undefined
  /** Reserved bits of byte 7 to add to our handshake, still to go out (the wire sets its own only). */
  private handshakeBits: number | undefined

  constructor (direction: PeerDirection, listener: PeerWireListener) {
    this.listener = listener
    this.wire = new Wire(direction === 'incoming' ? 'tcpIncoming' : 'tcpOutgoing')
    this.listen()
  }

  /** True while we choke the peer (from the start). */
  get choking (): boolean {
    return this.wire.amChoking
  }

  get peerInterested (): boolean {
    return this.wire.peerInterested
  }

  /** BEP 6: both ends offered the fast extension (known once both handshakes are out). */
  get hasFast (): boolean {
    return this.wire.hasFast
  }

  /** Feeds bytes received from the peer. False: pause the socket until `drained` is called. */
  receive (chunk: Uint8Array, drained: () => void): boolean {
    if (this.wire.write(chunk)) return true
    this.wire.once('drain', drained)
    return false
  }

  /**
   * Our BEP 3 handshake, offering BEP 6 and BEP 10 (on an incoming connection, after `describe`), and
   * for a hybrid or v2 torrent (`v2`) the BEP 52 bit: reserved byte 7, 0x10.
   */
  sendHandshake (infoHash: InfoHash, peerId: Buffer, v2: boolean): void {
    this.handshakeBits = v2 ? V2_BIT : 0
    this.wire.handshake(infoHash, peerId, { fast: true })
  }

  /**
   * A BEP 52 `hashes` or `hash reject` message, length prefix included (see hash-message.ts): queued
   * after the wire's own messages (its output reaches 'data' a tick later), never between them.
   */
  sendHashMessage (frame: Uint8Array): void {
    if (!this.destroyed) this.wire.push(frame)
  }

  /**
   * Sets what our BEP 10 handshake says. Call it from the listener's `handshake`: the wire sends its
   * extended handshake with our own handshake (incoming) or right after that call returns (outgoing).
   */
  describe (handshake: ExtendedHandshake): void {
    // ut_metadata writes metadata_size into the extended handshake; aria2 needs it before it asks for the info dictionary.
    this.wire.use(utMetadata(handshake.infoBytes))
    if (handshake.pex) this.wire.use(IgnoredPex as unknown as ExtensionConstructor)
    Object.assign(this.wire.extendedHandshake, { v: handshake.clientName, reqq: handshake.maxRequests })
  }

  /** A BEP 11 `ut_pex` message (see pex-message.ts); nothing when the peer's handshake took no PEX. */
  sendPex (payload: Uint8Array): void {
    if (this.pexId !== undefined) this.wire.extended(this.pexId, payload)
  }

  /** BEP 6 HaveAll; only with the fast extension. */
  haveAll (): void {
    this.wire.haveAll()
  }

  bitfield (bitfield: Uint8Array): void {
    this.wire.bitfield(bitfield)
  }

  /** BEP 3 keep-alives, so the peer does not take us for gone. */
  keepAlive (): void {
    this.wire.setKeepAlive(true)
  }

  /** BEP 6: the wire also rejects the peer's pending requests (a plain peer knows they are dropped). */
  choke (): void {
    this.wire.choke()
  }

  unchoke (): void {
    this.wire.unchoke()
  }

  /** BEP 6 reject, for a request never given to the session; only with the fast extension. */
  reject (index: number, offset: number, length: number): void {
    this.wire.reject(index, offset, length)
  }

  /**
   * Sends `block` as the answer to a request. False when the request was cancelled or rejected
   * meanwhile: the block was not taken. Otherwise it comes out through `output`, once, as this very
   * buffer, in a later tick (the session may cipher it in place for MSE: the wire is done with it), or back from
   * `destroy`.
   */
  answer (respond: Respond, block: Uint8Array): boolean {
    const uploaded = this.wire.uploaded
    this.unsent.add(block)
    respond(null, block)
    if (this.wire.uploaded !== uploaded) return true
    this.unsent.delete(block)
    return false
  }

  /** BEP 6: a fast peer hears the request is rejected; a plain one asks again after its own timeout. */
  refuse (respond: Respond, error: Error): void {
    respond(error)
  }

  /** Ends the wire. Returns the blocks answered and never handed to `output`. */
  destroy (): Uint8Array[] {
    this.destroyed = true
    this.wire.destroy()
    const blocks = [...this.unsent]
    this.unsent.clear()
    return blocks
  }

  private listen (): void {
    const { wire, listener } = this
    wire.on('data', (chunk) => listener.output(this.withHandshakeBits(chunk), this.unsent.delete(chunk)))
    wire.on('handshake', (infoHash, peerId) => listener.handshake(infoHash as InfoHash, peerId))
    wire.on('interested', () => listener.interestChanged())
    wire.on('uninterested', () => listener.interestChanged())
    wire.on('request', (index, offset, length, respond) => listener.request(index, offset, length, respond))
    wire.on('cancel', (index, offset, length) => listener.cancel(index, offset, length))
    wire.on('have-all', () => listener.haveAll())
    wire.on('bitfield', (bitfield) => listener.bitfield(bitfield.buffer))
    wire.on('extended', (ext) => {
      if (ext === 'ut_metadata') listener.metadataMessage()
      if (ext === 'handshake') this.onExtendedHandshake()
    })
    wire.on('unknownmessage', (message) => this.onUnknownMessage(message))
    wire.on('upload', (bytes) => listener.uploaded(bytes))
    wire.on('finish', () => this.ended())
    wire.on('error', () => this.ended())
  }

  /** Our handshake is the wire's first chunk, a fresh buffer: the BEP 52 bit is set in it where it lies. */
  private withHandshakeBits (chunk: Uint8Array): Uint8Array {
    if (this.handshakeBits === undefined || chunk.length !== HANDSHAKE_BYTES) return chunk
    chunk[HANDSHAKE_BYTES - 41] |= this.handshakeBits
    this.handshakeBits = undefined
    return chunk
  }

  /** BEP 52 messages; others the wire does not know are ignored, as BEP 3 asks. */
  private onUnknownMessage (message: Uint8Array): void {
    if (message[0] === HASH_REQUEST_ID) this.listener.hashRequest(message)
    if (message[0] === HASHES_ID || message[0] === HASH_REJECT_ID) this.listener.violation()
  }

  private onExtendedHandshake (): void {
    const extensions = readPeerExtensions(this.wire.peerExtendedHandshake)
    this.pexId = extensions.pexId
    this.listener.extensions(extensions)
  }

  private ended (): void {
    if (!this.destroyed) this.listener.violation()
  }
}
