import type { InfoHash } from '../metainfo/metainfo.js'
import { CRYPTO_PLAINTEXT, CRYPTO_RC4, MseHandshake, type MseDone, type MseStep } from './mse/mse-handshake.js'
import type { Rc4 } from './mse/rc4.js'
import type { DisconnectReason } from './seeder-events.js'
import type { EncryptionPolicy } from './seeder-options.js'

/** A plaintext connection starts with <19>"BitTorrent protocol"; anything else is taken for MSE's Ya. */
const PLAINTEXT_START = Buffer.from('\x13BitTorrent protocol', 'latin1')

/** What a PeerTransport tells its session. */
export interface TransportListener {
  /** Bytes for the socket as they are (MSE handshake steps). */
  write (bytes: Uint8Array): void
  /** Plaintext BitTorrent bytes from the peer, in order. */
  stream (chunk: Buffer): void
  /** The BitTorrent stream may start: for an outgoing connection, send our handshake now. */
  opened (): void
  failed (reason: DisconnectReason): void
}

export type TransportStart =
  /** A peer connected to us: plaintext or MSE, as its first bytes and `policy` say. */
  | { readonly direction: 'incoming', readonly policy: EncryptionPolicy, readonly findTorrent: (req2Hash: Uint8Array) => InfoHash | undefined }
  /** We dial for `infoHash`: over MSE offering `provide` (crypto_provide bits), or plaintext without it. */
  | { readonly direction: 'outgoing', readonly infoHash: InfoHash, readonly provide?: number }

/**
 * The bytes of one peer connection below the BitTorrent wire: `detect` (incoming, before we know
 * whether the peer speaks MSE), `mse` (its handshake), `open` (the BitTorrent stream, deciphered and
 * ciphered when RC4 was chosen).
 */
export class PeerTransport {
  private readonly start: TransportStart
  private readonly listener: TransportListener
  private state: 'detect' | 'mse' | 'open'
  private mse: MseHandshake | undefined
  /** Incoming bytes held while deciding between plaintext and MSE (fewer than 20). */
  private detected: Buffer = Buffer.alloc(0)
  private ciphers: { readonly encrypt: Rc4, readonly decrypt: Rc4 } | undefined
  private mseTorrent: InfoHash | undefined

  constructor (start: TransportStart, listener: TransportListener) {
    this.start = start
    this.listener = listener
    this.state = start.direction === 'incoming' && start.policy !== 'off' ? 'detect' : start.direction === 'outgoing' && start.provide !== undefined ? 'mse' : 'open'
  }

  /** Sends what goes first: MSE's step 1 when we dial encrypted; opens at once when we dial in plaintext. */
  begin (): void {
    if (this.start.direction !== 'outgoing') return
    if (this.start.provide === undefined) {
      this.listener.opened()
      return
    }
    this.mse = MseHandshake.initiator({ infoHash: this.start.infoHash, provide: this.start.provide })
    this.listener.write(this.mse.start())
  }

  /** MSE with RC4: the bytes both ways are ciphered. */
  get encrypted (): boolean {
    return this.ciphers !== undefined
  }

  /** Still in the MSE handshake. */
  get inMse (): boolean {
    return this.state === 'mse'
  }

  /** The torrent an incoming MSE handshake named; its BitTorrent handshake must name the same. */
  get mseInfoHash (): InfoHash | undefined {
    return this.mseTorrent
  }

  receive (chunk: Buffer): void {
    if (this.state === 'detect') this.detect(chunk)
    else if (this.state === 'mse') this.onStep(this.mse!.receive(chunk))
    else this.listener.stream(this.ciphers === undefined ? chunk : this.ciphers.decrypt.apply(chunk))
  }

  /**
   * The bytes to put on the socket for `chunk`. Under RC4 a chunk that is ours (`owned`: a block from
   * the pool) is ciphered where it lies; any other is ciphered as a copy, since its owner may keep it.
   */
  seal (chunk: Uint8Array, owned: boolean): Uint8Array {
    if (this.ciphers === undefined) return chunk
    return this.ciphers.encrypt.apply(owned ? chunk : Uint8Array.from(chunk))
  }

  private detect (chunk: Buffer): void {
    const start = this.detected.length === 0 ? chunk : Buffer.concat([this.detected, chunk])
    const known = Math.min(start.length, PLAINTEXT_START.length)
    this.detected = Buffer.alloc(0)
    if (!start.subarray(0, known).equals(PLAINTEXT_START.subarray(0, known))) {
      this.startResponder(start)
      return
    }
    if (known < PLAINTEXT_START.length) {
      this.detected = start
      return
    }
    if (this.start.direction === 'incoming' && this.start.policy === 'require') {
      this.listener.failed('plaintext-refused')
      return
    }
    this.state = 'open'
    this.listener.stream(start)
  }

  private startResponder (bytes: Buffer): void {
    if (this.start.direction !== 'incoming') return
    const { findTorrent } = this.start
    const allowed = this.start.policy === 'require' ? CRYPTO_RC4 : CRYPTO_RC4 | CRYPTO_PLAINTEXT
    this.mse = MseHandshake.responder({ allowed, findTorrent })
    this.state = 'mse'
    this.onStep(this.mse.receive(bytes))
  }

  private onStep (step: MseStep): void {
    for (const bytes of step.send) this.listener.write(bytes)
    if (step.failed !== undefined) this.listener.failed(step.failed)
    else if (step.done !== undefined) this.opened(step.done)
  }

  private opened (done: MseDone): void {
    this.mse = undefined
    this.state = 'open'
    this.ciphers = done.ciphers
    if (this.start.direction === 'incoming') this.mseTorrent = done.infoHash
    else this.listener.opened()
    if (done.received.length > 0) this.listener.stream(Buffer.from(done.received.buffer, done.received.byteOffset, done.received.length))
  }
}
