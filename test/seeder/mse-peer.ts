import { createHash } from 'node:crypto'
import type { InfoHash } from '../../appliance/metainfo/metainfo.js'
import { DhKeyPair } from '../../appliance/seeder/mse/diffie-hellman.js'
import { CRYPTO_RC4 } from '../../appliance/seeder/mse/mse-handshake.js'
import { Rc4 } from '../../appliance/seeder/mse/rc4.js'

export function sha1 (label: string, ...parts: Uint8Array[]): Buffer {
  const hash = createHash('sha1').update(label, 'latin1')
  for (const part of parts) hash.update(part)
  return hash.digest()
}

export interface Step3Options {
  /** The verification constant; default the right one, 8 zero bytes. */
  readonly vc?: Buffer
  readonly provide?: number
  /** len(PadC) as sent; at most 1000 bytes of padding follow whatever it says. */
  readonly padC?: number
  readonly ia?: Buffer
  /** Bytes ciphered after the IA. */
  readonly after?: Buffer
}

/** A hand-made MSE initiator, to send what ours never would: an IA, a wrong VC, an oversized PadC, an unknown SKEY. */
export class CraftedInitiator {
  readonly keys = new DhKeyPair()
  encrypt: Rc4 | undefined
  decrypt: Rc4 | undefined

  constructor (readonly infoHash: InfoHash) {}

  step1 (): Buffer {
    return this.keys.publicKey
  }

  /** Step 3, from the responder's step 2 (its first 96 bytes are Yb). */
  step3 (step2: Buffer, options: Step3Options = {}): Buffer {
    const secret = this.keys.secret(step2.subarray(0, 96))
    const skey = Buffer.from(this.infoHash, 'hex')
    this.encrypt = new Rc4(sha1('keyA', secret, skey))
    this.decrypt = new Rc4(sha1('keyB', secret, skey))
    const req3 = sha1('req3', secret)
    const hidden = sha1('req2', skey).map((byte, i) => byte ^ req3[i]!)
    const ia = options.ia ?? Buffer.alloc(0)
    const header = Buffer.alloc(8 + 4 + 2)
    ;(options.vc ?? Buffer.alloc(8)).copy(header)
    header.writeUInt32BE(options.provide ?? CRYPTO_RC4, 8)
    header.writeUInt16BE(options.padC ?? 0, 12)
    const iaLength = Buffer.alloc(2)
    iaLength.writeUInt16BE(ia.length)
    const tail = Buffer.concat([header, Buffer.alloc(Math.min(options.padC ?? 0, 1000)), iaLength, ia, options.after ?? Buffer.alloc(0)])
    return Buffer.concat([sha1('req1', secret), hidden, this.encrypt.apply(tail)])
  }
}
