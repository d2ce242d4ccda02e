import { createHash, randomBytes, randomInt } from 'node:crypto'
import type { InfoHash } from '../../metainfo/metainfo.js'
import { DH_KEY_BYTES, DhKeyPair } from './diffie-hellman.js'
import { Rc4 } from './rc4.js'

// Message stream encryption (MSE/PE), as Vuze, libtorrent and Transmission speak it:
//   1 A→B  Ya, PadA
//   2 B→A  Yb, PadB
//   3 A→B  HASH('req1', S), HASH('req2', SKEY) xor HASH('req3', S), ENCRYPT(VC, crypto_provide, len(PadC), PadC, len(IA)), ENCRYPT(IA)
//   4 B→A  ENCRYPT(VC, crypto_select, len(PadD), PadD), ENCRYPT2(payload)
//   5 A→B  ENCRYPT2(payload)
// A dials, B answers; SKEY is the infohash; the pads are 0–512 bytes; VC is 8 zero bytes.

/** crypto_provide / crypto_select bits. */
export const CRYPTO_PLAINTEXT = 0x01
export const CRYPTO_RC4 = 0x02
const MAX_PAD_BYTES = 512
const VC_BYTES = 8
const HASH_BYTES = 20

export type MseMethod = 'plaintext' | 'rc4'

/** Why a handshake failed; the connection ends with it. */
export type MseFailure =
  /** A public key outside the DH group. */
  | 'mse-bad-key'
  /** The synchronisation hash (req1, or the encrypted VC) was not within the 512 bytes of padding allowed. */
  | 'mse-no-sync'
  /** The verification constant did not decrypt to zeros: a wrong key or garbage. */
  | 'mse-bad-vc'
  /** A padding length above 512. */
  | 'mse-bad-pad'
  /** No crypto method both ends allow (e.g. a plaintext-only peer when we require RC4). */
  | 'mse-no-method'
  /** HASH('req2', SKEY) names no torrent we publish. */
  | 'unknown-torrent'

export interface MseDone {
  readonly infoHash: InfoHash
  readonly method: MseMethod
  /** Deciphered bytes that came with or after the handshake (IA, then payload): the start of the BitTorrent stream. */
  readonly received: Uint8Array
  /** For `rc4`: our outgoing cipher and the peer's, positioned after the handshake. */
  readonly ciphers?: { readonly encrypt: Rc4, readonly decrypt: Rc4 }
}

/** What one call to `receive` asks for: bytes to send, then perhaps the end of the handshake. */
export interface MseStep {
  readonly send: Uint8Array[]
  readonly done?: MseDone
  readonly failed?: MseFailure
}

export interface ResponderOptions {
  /** crypto_provide bits we accept from the peer. */
  readonly allowed: number
  /** The published infohash whose HASH('req2', infohash) this is (see SkeyIndex). */
  readonly findTorrent: (req2Hash: Uint8Array) => InfoHash | undefined
}

export interface InitiatorOptions {
  readonly infoHash: InfoHash
  /** crypto_provide bits we offer. */
  readonly provide: number
}

type State = 'public-key' | 'sync' | 'skey' | 'vc' | 'pad' | 'ia-length' | 'ia' | 'done'

/**
 * One side of an MSE handshake, pure apart from its random numbers: bytes from the peer in through
 * `receive`, bytes for the peer out of the steps. Buffers at most a handshake's worth of bytes
 * (public key, 512 of padding, hashes, 65535 of IA).
 */
export class MseHandshake {
  private readonly keys = new DhKeyPair()
  private readonly responder: ResponderOptions | undefined
  private readonly initiator: InitiatorOptions | undefined
  private state: State = 'public-key'
  private pending: Buffer = Buffer.alloc(0)
  private secret: Buffer | undefined
  private syncPattern: Buffer | undefined
  private infoHash: InfoHash | undefined
  private encrypt: Rc4 | undefined
  private decrypt: Rc4 | undefined
  private selected = 0
  /** Bytes of the padding (or IA) being read, and the state after it. */
  private fieldLength = 0
  private afterPad: 'ia-length' | 'done' = 'done'
  private ia: Uint8Array = new Uint8Array(0)

  private constructor (responder: ResponderOptions | undefined, initiator: InitiatorOptions | undefined) {
    this.responder = responder
    this.initiator = initiator
  }

  /** B, for a connection a peer made to us. */
  static responder (options: ResponderOptions): MseHandshake {
    return new MseHandshake(options, undefined)
  }

  /** A, for a connection we dial; send `start()` first. */
  static initiator (options: InitiatorOptions): MseHandshake {
    return new MseHandshake(undefined, options)
  }

  /** Step 1 (A): Ya, PadA. */
  start (): Uint8Array {
    return Buffer.concat([this.keys.publicKey, randomPad()])
  }

  receive (chunk: Uint8Array): MseStep {
    this.pending = this.pending.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.pending, chunk])
    const send: Uint8Array[] = []
    while (this.state !== 'done') {
      const result = this.responder !== undefined ? this.advanceResponder(this.responder, send) : this.advanceInitiator(this.initiator!, send)
      if (result === 'wait') return { send }
      if (result !== 'next') return { send, failed: result }
    }
    return { send, done: this.finish() }
  }

  private advanceResponder (options: ResponderOptions, send: Uint8Array[]): 'next' | 'wait' | MseFailure {
    switch (this.state) {
      case 'public-key': {
        const peerKey = this.take(DH_KEY_BYTES)
        if (peerKey === undefined) return 'wait'
        if (!this.agree(peerKey)) return 'mse-bad-key'
        send.push(Buffer.concat([this.keys.publicKey, randomPad()]))
        this.syncPattern = sha1('req1', this.secret!)
        this.state = 'sync'
        return 'next'
      }
      case 'sync':
        return this.synchronise()
      case 'skey': {
        const hidden = this.take(HASH_BYTES)
        if (hidden === undefined) return 'wait'
        const req2Hash = xor(hidden, sha1('req3', this.secret!))
        const infoHash = options.findTorrent(req2Hash)
        if (infoHash === undefined) return 'unknown-torrent'
        this.startCiphers(infoHash, 'keyB', 'keyA')
        this.state = 'vc'
        return 'next'
      }
      case 'vc': {
        const header = this.takeDeciphered(VC_BYTES + 4 + 2)
        if (header === undefined) return 'wait'
        if (!isZero(header.subarray(0, VC_BYTES))) return 'mse-bad-vc'
        const provided = header.readUInt32BE(VC_BYTES)
        this.selected = (provided & options.allowed & CRYPTO_RC4) || (provided & options.allowed & CRYPTO_PLAINTEXT)
        if (this.selected === 0) return 'mse-no-method'
        return this.expectPad(header.readUInt16BE(VC_BYTES + 4), 'ia-length')
      }
      case 'pad':
        return this.skipPad()
      case 'ia-length': {
        const length = this.takeDeciphered(2)
        if (length === undefined) return 'wait'
        this.state = 'ia'
        this.fieldLength = length.readUInt16BE(0)
        return 'next'
      }
      case 'ia': {
        const ia = this.takeDeciphered(this.fieldLength)
        if (ia === undefined) return 'wait'
        this.ia = ia
        send.push(this.encrypt!.apply(step4(this.selected)))
        this.state = 'done'
        return 'next'
      }
      default:
        return 'next'
    }
  }

  private advanceInitiator (options: InitiatorOptions, send: Uint8Array[]): 'next' | 'wait' | MseFailure {
    switch (this.state) {
      case 'public-key': {
        const peerKey = this.take(DH_KEY_BYTES)
        if (peerKey === undefined) return 'wait'
        if (!this.agree(peerKey)) return 'mse-bad-key'
        this.startCiphers(options.infoHash, 'keyA', 'keyB')
        const hidden = xor(sha1('req2', Buffer.from(options.infoHash, 'hex')), sha1('req3', this.secret!))
        const offer = Buffer.alloc(VC_BYTES + 4 + 2 + 2)
        offer.writeUInt32BE(options.provide, VC_BYTES)
        send.push(Buffer.concat([sha1('req1', this.secret!), hidden, this.encrypt!.apply(offer)]))
        this.syncPattern = this.decrypt!.apply(Buffer.alloc(VC_BYTES))
        this.state = 'sync'
        return 'next'
      }
      case 'sync':
        return this.synchronise()
      case 'vc': {
        const header = this.takeDeciphered(4 + 2)
        if (header === undefined) return 'wait'
        this.selected = header.readUInt32BE(0)
        if ((this.selected !== CRYPTO_RC4 && this.selected !== CRYPTO_PLAINTEXT) || (this.selected & options.provide) === 0) return 'mse-no-method'
        return this.expectPad(header.readUInt16BE(4), 'done')
      }
      case 'pad':
        return this.skipPad()
      default:
        return 'next'
    }
  }

  /** S from the peer's key; false when the key is not one of the group. */
  private agree (peerKey: Buffer): boolean {
    try {
      this.secret = this.keys.secret(peerKey)
      return true
    } catch {
      return false
    }
  }

  private startCiphers (infoHash: InfoHash, ours: 'keyA' | 'keyB', theirs: 'keyA' | 'keyB'): void {
    const skey = Buffer.from(infoHash, 'hex')
    this.infoHash = infoHash
    this.encrypt = new Rc4(sha1(ours, this.secret!, skey))
    this.decrypt = new Rc4(sha1(theirs, this.secret!, skey))
  }

  /** Drops the padding before the sync pattern (req1 for B, the encrypted VC for A), at most 512 bytes of it. */
  private synchronise (): 'next' | 'wait' | MseFailure {
    const pattern = this.syncPattern!
    const window = this.pending.subarray(0, MAX_PAD_BYTES + pattern.length)
    const at = window.indexOf(pattern)
    if (at < 0) return window.length === MAX_PAD_BYTES + pattern.length ? 'mse-no-sync' : 'wait'
    this.pending = this.pending.subarray(at + pattern.length)
    this.state = this.responder !== undefined ? 'skey' : 'vc'
    return 'next'
  }

  private expectPad (length: number, after: 'ia-length' | 'done'): 'next' | MseFailure {
    if (length > MAX_PAD_BYTES) return 'mse-bad-pad'
    this.fieldLength = length
    this.afterPad = after
    this.state = 'pad'
    return 'next'
  }

  private skipPad (): 'next' | 'wait' {
    const pad = this.takeDeciphered(this.fieldLength)
    if (pad === undefined) return 'wait'
    this.state = this.afterPad
    return 'next'
  }

  private take (length: number): Buffer | undefined {
    if (this.pending.length < length) return undefined
    const bytes = this.pending.subarray(0, length)
    this.pending = this.pending.subarray(length)
    return bytes
  }

  private takeDeciphered (length: number): Buffer | undefined {
    const bytes = this.take(length)
    return bytes === undefined ? undefined : this.decrypt!.apply(Buffer.from(bytes))
  }

  private finish (): MseDone {
    const rc4 = this.selected === CRYPTO_RC4
    const rest = Buffer.from(this.pending)
    if (rc4) this.decrypt!.apply(rest)
    this.pending = Buffer.alloc(0)
    return {
      infoHash: this.infoHash!,
      method: rc4 ? 'rc4' : 'plaintext',
      received: this.ia.length === 0 ? rest : Buffer.concat([this.ia, rest]),
      ...(rc4 && { ciphers: { encrypt: this.encrypt!, decrypt: this.decrypt! } })
    }
  }
}

/** Step 4 before encryption: VC, crypto_select, len(PadD) = 0. */
function step4 (selected: number): Buffer {
  const bytes = Buffer.alloc(VC_BYTES + 4 + 2)
  bytes.writeUInt32BE(selected, VC_BYTES)
  return bytes
}

/** HASH('req2', infohash), as the responder looks a torrent up by it. */
export function req2Hash (infoHash: InfoHash): Buffer {
  return sha1('req2', Buffer.from(infoHash, 'hex'))
}

function sha1 (label: string, ...parts: Uint8Array[]): Buffer {
  const hash = createHash('sha1').update(label, 'latin1')
  for (const part of parts) hash.update(part)
  return hash.digest()
}

function xor (a: Uint8Array, b: Uint8Array): Buffer {
  const out = Buffer.alloc(a.length)
  for (let i = 0; i < a.length; i++) out[i] = a[i]! ^ b[i]!
  return out
}

function isZero (bytes: Uint8Array): boolean {
  return bytes.every((byte) => byte === 0)
}

function randomPad (): Buffer {
  return randomBytes(randomInt(0, MAX_PAD_BYTES + 1))
}
