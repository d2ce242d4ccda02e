import { generateKeyPairSync } from 'node:crypto'
import { boxKeyOf, type BoxKey } from '../../appliance/identity/box-key.js'
import type { MutableStore } from '../../appliance/dht/catalog-pointer.js'
import { signatureMessage, verifyMutableSignature, type MutableItem } from '../../appliance/dht/mutable-item.js'
import type { MutableReply } from '../../appliance/dht/resolve-catalog-pointer.js'

export function newBoxKey (): BoxKey {
  return boxKeyOf(generateKeyPairSync('ed25519').privateKey)
}

/** An answer to a get carrying `v` under `seq`, signed by `key`, as a DHT node would send it. */
export function signedReply (key: BoxKey, seq: number, v: unknown, from = '127.0.0.9:1'): MutableReply {
  return { k: key.publicKey, seq, v, sig: key.sign(signatureMessage({ seq, v })), from }
}

/** A DHT of one honest BEP 44 node: it keeps the highest seq put, and answers 302 to one not above it, as bittorrent-dht does. */
export class OneNodeDht implements MutableStore {
  stored: MutableItem | undefined
  readonly puts: MutableItem[] = []
  async putMutable (item: MutableItem): Promise<number> {
    this.puts.push(item)
    if (!verifyMutableSignature(item.sig, signatureMessage(item), item.k)) throw new Error('bad signature')
    if (this.stored !== undefined && !(item.seq > this.stored.seq)) throw Object.assign(new Error('sequence number less than current'), { code: 302 })
    this.stored = item
    return 1
  }

  async getMutable (): Promise<MutableReply[]> {
    return this.stored === undefined ? [] : [{ ...this.stored, from: 'node' }]
  }
}
