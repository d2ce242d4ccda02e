import { generateKeyPairSync } from 'node:crypto'
import { boxKeyOf, type BoxKey } from '../../appliance/identity/box-key.js'
import { signatureMessage } from '../../appliance/dht/mutable-item.js'
import type { MutableReply } from '../../appliance/dht/resolve-catalog-pointer.js'

export function newBoxKey (): BoxKey {
  return boxKeyOf(generateKeyPairSync('ed25519').privateKey)
}

/** An answer to a get carrying `v` under `seq`, signed by `key`, as a DHT node would send it. */
export function signedReply (key: BoxKey, seq: number, v: unknown, from = '127.0.0.9:1'): MutableReply {
  return { k: key.publicKey, seq, v, sig: key.sign(signatureMessage({ seq, v })), from }
}
