// Minimal declarations for bittorrent-protocol 5, which ships none: what appliance/seeder/peer-wire.ts,
// appliance/download/peer-link.ts (its two users) and the tests call. What the adapter relies on beyond the README is pinned by
// test/contracts/bittorrent-protocol.test.ts.
declare module 'bittorrent-protocol' {
  import { EventEmitter } from 'node:events'

  export interface WireExtensions {
    dht?: boolean
    fast?: boolean
    extended?: boolean
  }

  /** A BEP 10 extension class, as `wire.use` takes it: constructed with the wire, named on its prototype. */
  export interface ExtensionConstructor {
    new (wire: Wire): unknown
    prototype: { name: string }
  }

  /**
   * BEP 3 peer wire protocol as a streamx Duplex: write the peer's bytes in, send its 'data' out.
   * Emits 'drain' when written bytes were processed after `write` returned false.
   */
  export default class Wire extends EventEmitter {
    /** `type` is `tcpIncoming` or `tcpOutgoing` for TCP; MSE stays off without `peEnabled`. */
    constructor (type?: string, peEnabled?: number)
    readonly amChoking: boolean
    readonly peerInterested: boolean
    /** BEP 6: both ends set the fast extension bit. */
    readonly hasFast: boolean
    /** Sent in our BEP 10 handshake, besides the `m` map `use` fills in. */
    extendedHandshake: Record<string, unknown>
    /** The peer's BEP 10 handshake, bencoded values as they decode (strings as bytes); `{}` until it came. */
    readonly peerExtendedHandshake: Record<string, unknown>
    readonly uploaded: number
    /** The peer chokes us (true until its unchoke). */
    readonly peerChoking: boolean
    readonly amInterested: boolean
    /** The pieces the peer has, from its bitfield, haves or HaveAll. */
    readonly peerPieces: { get (index: number): boolean }

    use (extension: ExtensionConstructor): void
    setKeepAlive (enable: boolean): void
    handshake (infoHash: string | Uint8Array, peerId: string | Uint8Array, extensions?: WireExtensions): void
    bitfield (bitfield: Uint8Array): void
    choke (): void
    unchoke (): void
    interested (): void
    uninterested (): void
    /** Asks the peer for a block; the callback gets it, or an error when rejected, choked or closed. */
    request (index: number, offset: number, length: number, callback: (error: Error | null, block?: Uint8Array) => void): void
    cancel (index: number, offset: number, length: number): void
    haveAll (): void
    have (index: number): void
    /** Tests only: a piece message as it is, asked for or not. */
    piece (index: number, offset: number, block: Uint8Array): void
    /** A request unanswered for `ms` (while unchoked) fails with an error and emits 'timeout'. */
    setTimeout (ms: number, unref?: boolean): void
    reject (index: number, offset: number, length: number): void
    /** A BEP 10 extended message: `ext` the peer's id for it (or the name it mapped), `payload` bytes as they are or an object to bencode. */
    extended (ext: number | string, payload: Uint8Array | Record<string, unknown>): void
    /** Feeds bytes received from the peer; false asks the writer to wait for 'drain'. */
    write (chunk: Uint8Array): boolean
    /** Tests only (the seeder has its own MSE): starts bittorrent-protocol's MSE as the initiator, SKEY = `infoHash`. */
    startEncryption (infoHash: string): void
    /** Tests only: answers 'crypto-infohash' on the responder side with the torrent it names. */
    setInfoHash (infoHash: string): void
    /** Ends the wire (it never destroys its stream abruptly). */
    destroy (): this

    on (event: 'handshake', listener: (infoHash: string, peerId: string, extensions: WireExtensions) => void): this
    on (event: 'request', listener: (index: number, offset: number, length: number, respond: (error: Error | null, block?: Uint8Array) => void) => void): this
    on (event: 'have', listener: (index: number) => void): this
    on (event: 'piece', listener: (index: number, offset: number, block: Uint8Array) => void): this
    on (event: 'cancel' | 'reject', listener: (index: number, offset: number, length: number) => void): this
    on (event: 'bitfield', listener: (bitfield: { buffer: Uint8Array }) => void): this
    on (event: 'extended', listener: (ext: string | number, payload: unknown) => void): this
    on (event: 'upload', listener: (bytes: number) => void): this
    /** Readable's push: `chunk` joins the wire's output after what it has queued. */
    push (chunk: Uint8Array): boolean
    on (event: 'data', listener: (chunk: Uint8Array) => void): this
    /** A message of an id it does not know, whole: the id, then the payload. */
    on (event: 'unknownmessage', listener: (message: Uint8Array) => void): this
    on (event: 'interested' | 'uninterested' | 'choke' | 'unchoke' | 'have-all' | 'drain' | 'finish' | 'end' | 'close' | 'timeout', listener: () => void): this
    on (event: 'error', listener: (error: Error) => void): this
    /** MSE, tests only: the responder learned HASH('req2', SKEY), in hex. */
    on (event: 'crypto-infohash', listener: (req2Hash: string) => void): this
    once (event: 'drain' | 'unchoke' | 'crypto-handshake', listener: () => void): this
    once (event: 'request', listener: (index: number, offset: number, length: number, respond: (error: Error | null, block?: Uint8Array) => void) => void): this
  }
}
