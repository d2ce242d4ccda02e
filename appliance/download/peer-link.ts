import { connect, type Socket } from 'node:net'
import Wire from 'bittorrent-protocol'
import type { InfoHash } from '../metainfo/metainfo.js'
import { MessageFramer, MAX_MESSAGE_LENGTH } from '../seeder/message-framer.js'
import { metadataExchange } from './metadata-exchange.js'
import type { BlockRef } from './piece-picker.js'

/** A piece message: 13 bytes of header and a 16 KiB block; a bitfield of a large torrent may be longer. */
const MAX_INCOMING_MESSAGE = Math.max(MAX_MESSAGE_LENGTH, 16 * 1024 + 13)

/** What a PeerLink tells its download. */
export interface PeerLinkListener {
  /** The peer's BEP 3 handshake named our torrent. */
  opened (link: PeerLink): void
  /** The peer's pieces changed: a bitfield, a have. `piece` undefined: many (count them with `has`). */
  piecesChanged (link: PeerLink, piece: number | undefined): void
  /** The peer unchoked us: requests may go out. */
  unchoked (link: PeerLink): void
  block (link: PeerLink, request: BlockRef, data: Uint8Array): void
  /** A request ended without its block (choke, cancel, the connection closed). */
  dropped (link: PeerLink, request: BlockRef): void
  metadata (link: PeerLink, infoBytes: Buffer): void
  metadataFailed (link: PeerLink, reason: string): void
  closed (link: PeerLink, reason: string): void
}

export interface PeerLinkOptions {
  readonly host: string
  readonly port: number
  readonly infoHash: InfoHash
  readonly peerId: Buffer
  /** Fetch the info dictionary over BEP 9, bounded to this many bytes; undefined when it is known. */
  readonly metadataMaxBytes: number | undefined
  readonly connectTimeoutMs: number
  /** A request unanswered this long (while unchoked) ends the connection: a stalled peer frees its blocks. */
  readonly requestTimeoutMs: number
  /** Without a piece, the metadata or an unchoke for this long, the connection ends. */
  readonly idleTimeoutMs: number
}

/**
 * One outgoing connection to a peer for a download: BEP 3 plaintext wire with BEP 10 (and BEP 9 when
 * the metadata is wanted), through bittorrent-protocol's Wire, behind our MessageFramer (so a length
 * prefix the size of the memory is refused before the Wire buffers it). The download decides what to
 * ask; the link keeps the requests out and says what became of each.
 */
export class PeerLink {
  readonly address: string
  private readonly wire: Wire
  private readonly socket: Socket
  private readonly framer = new MessageFramer(MAX_INCOMING_MESSAGE)
  private readonly outstanding = new Map<string, BlockRef>()
  private idleTimer: NodeJS.Timeout | undefined
  private isOpen = false
  private ended = false

  constructor (readonly id: number, private readonly options: PeerLinkOptions, private readonly listener: PeerLinkListener) {
    this.address = `${options.host.includes(':') ? `[${options.host}]` : options.host}:${options.port}`
    this.wire = new Wire('tcpOutgoing')
    this.socket = connect({ host: options.host, port: options.port, timeout: options.connectTimeoutMs })
    this.listen()
  }

  get unchoked (): boolean {
    return this.isOpen && !this.ended && !this.wire.peerChoking
  }

  get requestCount (): number {
    return this.outstanding.size
  }

  has (piece: number): boolean {
    return this.wire.peerPieces.get(piece) === true
  }

  asked (piece: number, offset: number): boolean {
    return this.outstanding.has(`${piece}:${offset}`)
  }

  interested (): void {
    if (!this.wire.amInterested) this.wire.interested()
  }

  uninterested (): void {
    if (this.wire.amInterested) this.wire.uninterested()
  }

  request (block: BlockRef): void {
    const key = `${block.piece}:${block.offset}`
    this.outstanding.set(key, block)
    this.wire.request(block.piece, block.offset, block.length, (error: Error | null, data?: Uint8Array) => {
      if (this.outstanding.get(key) !== block) return
      this.outstanding.delete(key)
      if (error !== null || data === undefined) this.listener.dropped(this, block)
      else this.listener.block(this, block, data)
    })
  }

  /** Endgame: the block came from elsewhere. */
  cancel (block: BlockRef): void {
    const key = `${block.piece}:${block.offset}`
    if (!this.outstanding.has(key)) return
    this.outstanding.delete(key)
    this.wire.cancel(block.piece, block.offset, block.length)
  }

  /** BEP 3 have: tells the peer a piece is verified here. */
  have (piece: number): void {
    if (this.isOpen) this.wire.have(piece)
  }

  close (reason: string): void {
    if (this.ended) return
    this.ended = true
    clearTimeout(this.idleTimer)
    const requests = [...this.outstanding.values()]
    this.outstanding.clear()
    this.wire.destroy()
    this.socket.destroy()
    for (const request of requests) this.listener.dropped(this, request)
    this.listener.closed(this, reason)
  }

  private listen (): void {
    const { socket, wire, options, listener } = this
    socket.setNoDelay(true)
    socket.once('connect', () => {
      socket.setTimeout(0)
      this.touch()
      wire.handshake(options.infoHash, options.peerId)
    })
    socket.once('timeout', () => this.close('could not connect in time'))
    socket.on('error', (error: NodeJS.ErrnoException) => this.close(error.code ?? error.message))
    socket.once('close', () => this.close('connection closed'))
    socket.on('data', (chunk: Buffer) => {
      const problem = this.framer.push(chunk)
      if (problem !== undefined) return this.close(problem)
      if (!wire.write(chunk)) {
        socket.pause()
        wire.once('drain', () => socket.resume())
      }
    })
    wire.on('data', (chunk: Uint8Array) => { if (!this.ended) socket.write(chunk) })
    wire.setTimeout(options.requestTimeoutMs, true)
    wire.on('timeout', () => this.close('a request went unanswered'))
    if (options.metadataMaxBytes !== undefined) {
      wire.use(metadataExchange(options.infoHash, options.metadataMaxBytes, {
        metadata: (infoBytes) => { this.touch(); listener.metadata(this, infoBytes) },
        failed: (reason) => listener.metadataFailed(this, reason)
      }) as never)
    }
    wire.on('handshake', (infoHash: string) => {
      if (infoHash !== options.infoHash) return this.close('the peer named another torrent')
      this.isOpen = true
      listener.opened(this)
    })
    wire.on('bitfield', () => listener.piecesChanged(this, undefined))
    wire.on('have', (piece: number) => listener.piecesChanged(this, piece))
    wire.on('unchoke', () => { this.touch(); listener.unchoked(this) })
    wire.on('piece', () => this.touch())
    wire.on('finish', () => this.close('the peer broke the protocol'))
    wire.on('error', () => this.close('the peer broke the protocol'))
  }

  /** Progress: the idle clock starts again. */
  private touch (): void {
    clearTimeout(this.idleTimer)
    this.idleTimer = setTimeout(() => this.close('idle'), this.options.idleTimeoutMs)
    this.idleTimer.unref()
  }
}
