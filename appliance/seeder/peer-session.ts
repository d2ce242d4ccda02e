import type { Socket } from 'node:net'
import { truncatedV2Of, type PublishedTorrent } from '../catalog/catalog.js'
import type { InfoHash, Metainfo } from '../metainfo/metainfo.js'
import { hasV2 } from '../metainfo/torrent-format.js'
import { parsePeerAddress } from '../net/peer-address.js'
import type { ChokerPeer } from './choker.js'
import { encodeHashReject, parseHashRequest } from './hash-message.js'
import type { MayReadPiece } from './hash-answerer.js'
import type { HashRequest } from './hash-request.js'
import { MessageFramer } from './message-framer.js'
import { NO_EXTENSIONS, type PeerExtensions } from './peer-extensions.js'
import { PeerTransport, type TransportStart } from './peer-transport.js'
import { PeerWire, type PeerWireListener, type Respond } from './peer-wire.js'
import type { PexMember } from './pex-exchange.js'
import { PEX_FLAG, type PexPeer } from './pex-message.js'
import { checkRequest, MAX_BLOCK_LENGTH } from './piece-request.js'
import { isSeedBitfield, seedBitfield } from './seed-bitfield.js'
import type { DisconnectReason, PeerDirection } from './seeder-events.js'
import type { EncryptionPolicy } from './seeder-options.js'
import { TokenBucket } from './token-bucket.js'
import type { UploadSource } from './upload-scheduler.js'

/**
 * Bytes queued on the socket, or answered and on their way to it, above which no new block is started:
 * enough to keep a fast link busy, and what one peer's blocks of one turn of the event loop go out in
 * (one writev).
 */
export const SEND_BUFFER_BYTES = 256 * 1024
/** Bytes queued on the socket above which the peer is taken for one that does not read. */
export const MAX_SEND_BUFFER_BYTES = 2 * 1024 * 1024
/** Blocks read from disk at once for one peer. */
export const MAX_READS_PER_PEER = 4
/**
 * BEP 52 hash requests being answered at once for one peer (one below the piece layer reads a piece
 * from disk); more are rejected. libtorrent 2.0.8 keeps at most two out.
 */
export const MAX_HASH_ANSWERS_PER_PEER = 4
/**
 * Pieces a peer last asked for blocks of, remembered for BEP 52 block hashes: those are read from disk
 * only for a piece the peer downloads (BEP 52: a seed must not refuse them right after serving one of
 * the piece's blocks), never as a 49-byte request that makes the box read a whole piece for anyone.
 */
export const RECENT_PIECES_PER_PEER = 64
/** BEP 9 serves the info dictionary in 16 KiB pieces. */
const METADATA_PIECE_BYTES = 16 * 1024

/** What a session needs from the seeder that owns it. */
export interface SessionHost {
  readonly peerId: Buffer
  /** Our name and version for the BEP 10 handshake's `v`. */
  readonly clientName: string
  readonly maxOutstandingRequests: number
  readonly peerUploadRateLimit: number
  /** BEP 11: offer `ut_pex` to the peers of public torrents. */
  readonly pex: boolean
  /** A peer must complete the BEP 3 handshake this soon after connecting. */
  readonly handshakeMs: number
  /** BEP 3 peers send a keep-alive every two minutes; silence for this long means the peer is gone. */
  readonly idleMs: number
  /** What incoming connections may speak (an outgoing one is told by `SessionOptions.encrypt`). */
  readonly encryption: EncryptionPolicy
  /** The published torrent whose HASH('req2', infohash) this is, for an MSE responder (see SkeyIndex). */
  findTorrent (req2Hash: Uint8Array): InfoHash | undefined
  now (): number
  /** The published torrent a handshake asks for, or why the peer may not have it. */
  admit (session: PeerSession, infoHash: InfoHash): PublishedTorrent | DisconnectReason
  joined (session: PeerSession): void
  /** The peer's BEP 10 extended handshake came (again): what PEX knows of it may have changed. */
  extensionsChanged (session: PeerSession): void
  interestChanged (session: PeerSession): void
  /** The session has requests to serve (again). */
  ready (session: PeerSession): void
  /** Fills `block` with its bytes (see ContentReader). */
  readBlock (torrent: PublishedTorrent, index: number, offset: number, block: Buffer): Promise<void>
  /** The BEP 52 `hashes` or `hash reject` message answering `request` (see HashAnswerer); rejects when reading the piece fails. */
  answerHashRequest (torrent: PublishedTorrent, request: HashRequest, mayRead: MayReadPiece): Promise<Buffer>
  /** Bytes sent outside the upload scheduler (BEP 52 answers), charged to the total upload limit. */
  chargeUpload (bytes: number): void
  /** Fills `block` at once if its bytes are cached: true; else false, and `readBlock` it (see ContentReader). */
  copyCachedBlock (torrent: PublishedTorrent, index: number, offset: number, block: Buffer): boolean
  /** Gives back a block buffer the scheduler handed out, once it is sent or will not be. */
  releaseBlock (block: Uint8Array): void
  /**
   * Reading a block failed: a torrent error (see ContentReader), which ends the torrent's swarm, or a
   * transient one (out of file descriptors or memory), after which the session refuses that request only.
   */
  readFailed (session: PeerSession, error: unknown): void
  uploaded (session: PeerSession, bytes: number): void
  closed (session: PeerSession, reason: DisconnectReason): void
}

interface QueuedRequest {
  readonly index: number
  readonly offset: number
  readonly length: number
  readonly respond: Respond
}

export interface SessionOptions {
  readonly key: number
  readonly direction: PeerDirection
  /** `host:port` of the peer. */
  readonly address: string
  /** For an outgoing connection: the torrent we dial for. */
  readonly torrent?: PublishedTorrent
  /** For an outgoing connection: start with MSE, offering these crypto_provide bits (none: plaintext). */
  readonly encrypt?: number
}

/**
 * One peer connection of the everseed, a pure seed: BEP 3 handshake and bitfield (BEP 6 HaveAll when
 * the peer has the fast extension), BEP 10 with BEP 9 ut_metadata, requests validated and queued for
 * the upload scheduler. Any violation ends this connection only.
 */
export class PeerSession implements UploadSource, PexMember {
  readonly key: number
  readonly direction: PeerDirection
  readonly address: string
  readonly bucket: TokenBucket
  /** When its current turn in an upload slot began; undefined while choked. */
  unchokedAt: number | undefined
  /** When its last turn ended. */
  lastServedAt: number | undefined
  /** When the connection was made. */
  readonly connectedAt: number
  private torrentValue: PublishedTorrent | undefined
  private readonly host: SessionHost
  private readonly socket: Socket
  private readonly wire: PeerWire
  private readonly framer = new MessageFramer()
  private readonly transport: PeerTransport
  /** The TCP connection was made (an outgoing one may fail before). */
  private reached = false
  private queue: QueuedRequest[] = []
  /** Blocks handed to the socket and not yet written out by it, and when the socket last wrote one (or got the first). */
  private blocksInSocket = 0
  private lastBlockWrittenAt = Number.NEGATIVE_INFINITY
  /** When it joined the swarm, last asked for a block or metadata, and was last unchoked (see `idleSince`). */
  private joinedAt = Number.NEGATIVE_INFINITY
  private lastRequestAt = Number.NEGATIVE_INFINITY
  private lastUnchokedAt = Number.NEGATIVE_INFINITY
  private reads = 0
  private hashAnswers = 0
  /** The last RECENT_PIECES_PER_PEER distinct pieces it asked for blocks of, oldest first (a Set keeps insertion order). */
  private readonly recentPieces = new Set<number>()
  private lastPiece = -1
  /** Bytes of blocks answered to the wire and not yet handed to the socket (the wire outputs them a microtask later). */
  private answeredBytes = 0
  private floodStrikes = 0
  private metadataAllowance = 0
  private handshakeTimer: NodeJS.Timeout | undefined
  private closeReason: DisconnectReason | undefined
  private extensions: PeerExtensions = NO_EXTENSIONS
  private pexOffered = false
  private readonly socketClosed: Promise<void>

  constructor (socket: Socket, host: SessionHost, options: SessionOptions) {
    this.key = options.key
    this.direction = options.direction
    this.address = options.address
    this.host = host
    this.socket = socket
    this.connectedAt = host.now()
    this.bucket = new TokenBucket(host.peerUploadRateLimit, MAX_BLOCK_LENGTH, this.connectedAt)
    this.socketClosed = new Promise((resolve) => socket.once('close', () => resolve()))
    this.wire = new PeerWire(options.direction, this.wireListener(options.torrent))
    // The handshake timeout covers the MSE handshake too.
    this.handshakeTimer = setTimeout(() => this.close('timeout'), host.handshakeMs)
    this.transport = new PeerTransport(transportStart(host, options), {
      write: (bytes) => this.socket.write(bytes),
      stream: (chunk) => this.onStream(chunk),
      opened: () => this.wire.sendHandshake(options.torrent!.metainfo.infoHash, host.peerId, hasV2(options.torrent!.metainfo.format)),
      failed: (reason) => this.close(reason)
    })
    this.listenToSocket()
    this.transport.begin()
  }

  /** MSE with RC4: the bytes both ways are ciphered. */
  get encrypted (): boolean {
    return this.transport.encrypted
  }

  /**
   * An outgoing MSE attempt that reached the peer and ended before its handshake was done (a `prefer`
   * seeder dials again in plaintext); a peer that could not be reached at all is not tried again.
   */
  get mseUnfinished (): boolean {
    return this.direction === 'outgoing' && this.transport.inMse && this.reached
  }

  /** The torrent, once the handshake is done. */
  get torrent (): PublishedTorrent | undefined {
    return this.torrentValue
  }

  get closed (): boolean {
    return this.closeReason !== undefined
  }

  /** Resolves once the socket is fully closed. */
  get whenClosed (): Promise<void> {
    return this.socketClosed
  }

  /**
   * Where the others of its swarm can reach it (BEP 11): the address we dialled, or its IP with the
   * listen port its extended handshake gave (`p`); undefined for an incoming peer that gave none.
   */
  get pexPeer (): PexPeer | undefined {
    const remote = parsePeerAddress(this.address)
    if (remote === undefined) return undefined
    const { listenPort, prefersEncryption, uploadOnly } = this.extensions
    const flags = (prefersEncryption ? PEX_FLAG.prefersEncryption : 0) | (uploadOnly ? PEX_FLAG.seed : 0)
    if (this.direction === 'outgoing') return { address: remote, flags: flags | PEX_FLAG.reachable }
    return listenPort === undefined ? undefined : { address: { ip: remote.ip, port: listenPort }, flags }
  }

  /** True when PEX is offered for its torrent and its extended handshake took `ut_pex`. */
  get takesPex (): boolean {
    return this.pexOffered && this.extensions.pexId !== undefined
  }

  sendPex (payload: Uint8Array): void {
    if (!this.closed && this.takesPex) this.wire.sendPex(payload)
  }

  get connecting (): boolean {
    return this.socket.connecting
  }

  get unchoked (): boolean {
    return !this.wire.choking
  }

  /** What the choker sees of it; `stallMs` as in `SeederOptions.stallMs`. */
  chokerView (now: number, stallMs: number): ChokerPeer {
    return {
      key: this.key,
      interested: this.wire.peerInterested,
      unchokedAt: this.unchokedAt,
      lastServedAt: this.lastServedAt,
      stalled: this.isSendStalled(now, stallMs),
      unused: this.isSlotUnused(now, stallMs)
    }
  }

  /**
   * Since when the peer has wanted nothing from us, or undefined while it does: it has requests being
   * read, or it is interested and waits for a slot, neither stalled nor having let its last slot go
   * unused. Joining, asking for a block or metadata, reading a block and being unchoked count as
   * wanting; a newcomer may replace a peer idle long enough (see `chooseReplaced`).
   */
  idleSince (now: number, stallMs: number): number | undefined {
    if (this.queue.length > 0 || this.reads > 0) return undefined
    const stalled = this.isSendStalled(now, stallMs)
    const wastedLastSlot = this.lastRequestAt < this.lastUnchokedAt
    if (this.wire.peerInterested && this.wire.choking && !stalled && !wastedLastSlot) return undefined
    return Math.max(this.joinedAt, this.lastRequestAt, stalled ? Number.NEGATIVE_INFINITY : this.lastBlockWrittenAt, this.lastUnchokedAt)
  }

  get hasQueued (): boolean {
    return this.queue.length > 0
  }

  nextBlockLength (): number | undefined {
    if (this.closed || this.queue.length === 0 || this.reads >= MAX_READS_PER_PEER) return undefined
    if (this.socket.writableLength + this.answeredBytes >= SEND_BUFFER_BYTES) return undefined
    return this.queue[0]!.length
  }

  sendNext (block: Buffer): void {
    const request = this.queue.shift()
    const torrent = this.torrentValue
    if (request === undefined || torrent === undefined) {
      this.host.releaseBlock(block)
      return
    }
    if (this.host.copyCachedBlock(torrent, request.index, request.offset, block)) {
      this.served(request, block)
      return
    }
    this.reads++
    this.host.readBlock(torrent, request.index, request.offset, block).then(() => {
      this.reads--
      if (this.closed) {
        this.host.releaseBlock(block)
        return
      }
      this.served(request, block)
    }, (error: unknown) => {
      this.reads--
      this.host.releaseBlock(block)
      if (this.closed) return
      this.host.readFailed(this, error)
      if (this.closed) return
      this.wire.refuse(request.respond, error instanceof Error ? error : new Error(String(error)))
      this.host.ready(this)
    })
  }

  unchoke (now: number): void {
    if (this.closed || !this.wire.choking) return
    this.wire.unchoke()
    this.unchokedAt = now
    this.lastUnchokedAt = now
  }

  /** BEP 6: the wire rejects the pending requests of a fast peer; a plain peer knows they are dropped. */
  choke (now: number): void {
    if (this.closed || this.wire.choking) return
    this.wire.choke()
    this.queue = []
    this.unchokedAt = undefined
    this.lastServedAt = now
  }

  /** The host's limits changed (a config reload): the upload rate and the idle timeout follow at once; the others are read when they are needed. */
  limitsChanged (now: number): void {
    this.bucket.setRate(this.host.peerUploadRateLimit, now)
    this.socket.setTimeout(this.host.idleMs)
  }

  /** Ends the connection (once); the host hears about it through `closed`. */
  close (reason: DisconnectReason): void {
    if (this.closeReason !== undefined) return
    this.closeReason = reason
    clearTimeout(this.handshakeTimer)
    this.queue = []
    // The socket calls back every write it still holds as it is destroyed; the wire gives back what it holds.
    this.socket.destroy()
    for (const block of this.wire.destroy()) this.host.releaseBlock(block)
    this.host.closed(this, reason)
  }

  private listenToSocket (): void {
    const socket = this.socket
    this.reached = !socket.connecting
    socket.once('connect', () => { this.reached = true })
    socket.setNoDelay(true)
    socket.setTimeout(this.host.idleMs)
    socket.on('timeout', () => this.close('timeout'))
    socket.on('error', () => this.close('socket-error'))
    socket.on('close', () => this.close('peer-closed'))
    socket.on('drain', () => this.host.ready(this))
    socket.on('data', (chunk: Buffer) => this.onData(chunk))
  }

  private wireListener (dialed: PublishedTorrent | undefined): PeerWireListener {
    return {
      handshake: (infoHash, peerId) => this.onHandshake(infoHash, peerId, dialed),
      interestChanged: () => { if (!this.closed) this.host.interestChanged(this) },
      request: (index, offset, length, respond) => this.onRequest(index, offset, length, respond),
      cancel: (index, offset, length) => this.onCancel(index, offset, length),
      haveAll: () => this.close('peer-is-seed'),
      bitfield: (bitfield) => this.onBitfield(bitfield),
      metadataMessage: () => this.onMetadataMessage(),
      hashRequest: (message) => this.onHashRequest(message),
      extensions: (extensions) => this.onExtensions(extensions),
      uploaded: (bytes) => this.host.uploaded(this, bytes),
      output: (chunk, block) => this.send(chunk, block),
      violation: () => this.close('protocol-violation')
    }
  }

  private onData (chunk: Buffer): void {
    if (!this.closed) this.transport.receive(chunk)
  }

  /** Plaintext BitTorrent bytes from the peer, framed before the wire buffers them. */
  private onStream (chunk: Buffer): void {
    if (this.closed) return
    const problem = this.framer.push(chunk)
    if (problem !== undefined) {
      this.close(problem)
      return
    }
    if (!this.wire.receive(chunk, () => this.socket.resume())) this.socket.pause()
  }

  /** `block` holds the bytes `request` asked for: it goes out, and each block served takes a flood strike back. */
  private served (request: QueuedRequest, block: Buffer): void {
    this.respond(request, block)
    this.floodStrikes = Math.max(0, this.floodStrikes - 1)
    this.host.ready(this)
  }

  /** The block goes back to the pool once the socket has written it, or at once if the wire did not take it. */
  private respond (request: QueuedRequest, block: Buffer): void {
    if (this.wire.answer(request.respond, block)) this.answeredBytes += block.length
    else this.host.releaseBlock(block)
  }

  private send (chunk: Uint8Array, block: boolean): void {
    if (block) this.answeredBytes -= chunk.length
    if (this.socket.destroyed) {
      if (block) this.host.releaseBlock(chunk)
      return
    }
    // A block is ours until the socket has written it (under RC4 it is ciphered where it lies).
    const bytes = this.transport.seal(chunk, block)
    // The wire writes a block's header and payload separately: corked until the end of this tick,
    // they leave in one writev instead of two writes.
    if (this.socket.writableCorked === 0) {
      this.socket.cork()
      process.nextTick(() => this.socket.uncork())
    }
    if (block) this.writeBlock(bytes)
    else this.socket.write(bytes)
    if (this.socket.writableLength > MAX_SEND_BUFFER_BYTES) this.close('send-overflow')
  }

  /** A block from the pool: it goes back once the socket has written it. */
  private writeBlock (block: Uint8Array): void {
    // A block entering an empty socket starts the clock: the peer has had nothing to read until now.
    if (this.blocksInSocket === 0) this.lastBlockWrittenAt = this.host.now()
    this.blocksInSocket++
    this.socket.write(block, () => {
      this.blocksInSocket--
      this.lastBlockWrittenAt = this.host.now()
      this.host.releaseBlock(block)
    })
  }

  /**
   * True when blocks have sat in the socket for `stallMs` without one being written: the peer does not
   * read, and the pool buffers it holds would stay out of everyone else's reach (keep-alives it sends
   * keep the idle timeout away).
   */
  isSendStalled (now: number, stallMs: number): boolean {
    return this.blocksInSocket > 0 && now - this.lastBlockWrittenAt >= stallMs
  }

  /** Unchoked, with nothing asked of us, read or being read for `stallMs`: the slot goes unused. */
  private isSlotUnused (now: number, stallMs: number): boolean {
    if (this.wire.choking || this.queue.length > 0 || this.reads > 0 || this.blocksInSocket > 0) return false
    return now - Math.max(this.lastUnchokedAt, this.lastRequestAt, this.lastBlockWrittenAt) >= stallMs
  }

  private onHandshake (infoHash: InfoHash, peerId: string, dialed: PublishedTorrent | undefined): void {
    if (this.closed) return
    if (peerId === this.host.peerId.toString('hex')) {
      this.close('self-connection')
      return
    }
    // BEP 52: a peer we dial for a hybrid (with the v2 bit) may answer with the truncated v2 infohash,
    // upgrading the connection; libtorrent does, in plaintext.
    const expected = dialed?.metainfo.infoHash ?? this.transport.mseInfoHash
    const upgraded = dialed === undefined ? undefined : truncatedV2Of(dialed.metainfo)
    if (expected !== undefined && infoHash !== expected && infoHash !== upgraded) {
      this.close('bad-handshake')
      return
    }
    const admitted = this.host.admit(this, infoHash)
    if (typeof admitted === 'string') {
      this.close(admitted)
      return
    }
    this.torrentValue = admitted
    const { metainfo } = admitted
    clearTimeout(this.handshakeTimer)
    this.joinedAt = this.host.now()
    this.metadataAllowance = 2 * Math.ceil(metainfo.infoBytes.length / METADATA_PIECE_BYTES) + 4
    // BEP 9 through BEP 10: the extended handshake carries metadata_size, our name and `reqq`.
    // BEP 27: a private torrent's peers come from its tracker only, so no PEX for it.
    this.pexOffered = this.host.pex && !metainfo.private
    this.wire.describe({ infoBytes: metainfo.infoBytes, clientName: this.host.clientName, maxRequests: this.host.maxOutstandingRequests, pex: this.pexOffered })
    if (dialed === undefined) this.wire.sendHandshake(this.answeredInfoHash(infoHash, metainfo), this.host.peerId, hasV2(metainfo.format))
    // BEP 6: a seed may send HaveAll instead of a bitfield when both ends have the fast extension.
    if (this.wire.hasFast) this.wire.haveAll()
    else this.wire.bitfield(seedBitfield(metainfo.pieceCount))
    this.wire.keepAlive()
    this.host.joined(this)
  }

  /**
   * The infohash the peer used; but a peer that asked for a hybrid by its v1 infohash and set the
   * BEP 52 bit is answered with the truncated v2 one, which upgrades the connection to v2 (BEP 52's
   * upgrade path): libtorrent then fetches and checks the v2 hashes too, e.g. the piece layers after a magnet.
   */
  private answeredInfoHash (asked: InfoHash, metainfo: Metainfo): InfoHash {
    const v2 = truncatedV2Of(metainfo)
    return v2 !== undefined && asked === metainfo.infoHash && this.framer.peerOffersV2 ? v2 : asked
  }

  private onRequest (index: number, offset: number, length: number, respond: Respond): void {
    const torrent = this.torrentValue
    if (this.closed || torrent === undefined) return
    if (checkRequest(torrent.metainfo, index, offset, length) !== undefined) {
      this.close('bad-request')
      return
    }
    if (this.queue.length + this.reads >= this.host.maxOutstandingRequests) {
      this.refuseFlood(index, offset, length)
      return
    }
    this.queue.push({ index, offset, length, respond })
    this.lastRequestAt = this.host.now()
    this.rememberPiece(index)
    this.host.ready(this)
  }

  /** Called for every block asked for: nothing allocated, the same piece as the last a cheap no-op. */
  private rememberPiece (index: number): void {
    if (this.lastPiece === index) return
    this.lastPiece = index
    this.recentPieces.delete(index)
    this.recentPieces.add(index)
    if (this.recentPieces.size > RECENT_PIECES_PER_PEER) this.recentPieces.delete(this.recentPieces.values().next().value!)
  }

  /**
   * A request beyond the queue limit is rejected (BEP 6) or, for a peer without the fast extension,
   * dropped (it asks again after its timeout). Each refusal is a strike and each block served takes
   * one away, so a client that briefly overshoots our `reqq` (aria2 keeps 256 requests out) goes on,
   * while one that keeps flooding faster than it is served is dropped.
   */
  private refuseFlood (index: number, offset: number, length: number): void {
    this.floodStrikes++
    if (this.floodStrikes > this.host.maxOutstandingRequests) {
      this.close('request-flood')
      return
    }
    if (this.wire.hasFast) this.wire.reject(index, offset, length)
  }

  private onCancel (index: number, offset: number, length: number): void {
    const at = this.queue.findIndex((request) => request.index === index && request.offset === offset && request.length === length)
    if (at >= 0) this.queue.splice(at, 1)
  }

  private onBitfield (bitfield: Uint8Array): void {
    const torrent = this.torrentValue
    if (torrent !== undefined && isSeedBitfield(bitfield, torrent.metainfo.pieceCount)) this.close('peer-is-seed')
  }

  private onExtensions (extensions: PeerExtensions): void {
    if (this.closed || this.torrentValue === undefined) return
    this.extensions = extensions
    this.host.extensionsChanged(this)
  }

  /**
   * BEP 52: answered whatever our choke, with `hashes` or `hash reject`; a request of the wrong size
   * ends the connection. Over MAX_HASH_ANSWERS_PER_PEER being answered, rejected at once.
   */
  private onHashRequest (message: Uint8Array): void {
    const torrent = this.torrentValue
    if (this.closed || torrent === undefined) return
    const request = parseHashRequest(message)
    if (request === undefined) {
      this.close('bad-hash-request')
      return
    }
    this.lastRequestAt = this.host.now()
    if (this.hashAnswers >= MAX_HASH_ANSWERS_PER_PEER) {
      this.wire.sendHashMessage(encodeHashReject(request))
      return
    }
    this.hashAnswers++
    this.host.answerHashRequest(torrent, request, (piece) => this.recentPieces.has(piece)).then((frame) => {
      this.hashAnswers--
      if (this.closed) return
      this.sendHashAnswer(frame)
    }, (error: unknown) => {
      this.hashAnswers--
      if (this.closed) return
      this.host.readFailed(this, error)
      this.wire.sendHashMessage(encodeHashReject(request))
    })
  }

  /**
   * BEP 52: hash requests "should be subject to the same rate limiting policy as piece requests". An
   * answer goes out at once (at most 8192 hashes, MAX_HASH_ANSWERS_PER_PEER at a time) and is paid for
   * by the blocks after it: both upload limits are charged, into debt if need be.
   */
  private sendHashAnswer (frame: Buffer): void {
    this.bucket.take(frame.length, this.host.now())
    this.host.chargeUpload(frame.length)
    this.wire.sendHashMessage(frame)
  }

  private onMetadataMessage (): void {
    this.lastRequestAt = this.host.now()
    this.metadataAllowance--
    if (this.metadataAllowance < 0) this.close('metadata-flood')
  }
}

function transportStart (host: SessionHost, options: SessionOptions): TransportStart {
  if (options.torrent === undefined) return { direction: 'incoming', policy: host.encryption, findTorrent: (hash) => host.findTorrent(hash) }
  return { direction: 'outgoing', infoHash: options.torrent.metainfo.infoHash, ...(options.encrypt !== undefined && { provide: options.encrypt }) }
}
