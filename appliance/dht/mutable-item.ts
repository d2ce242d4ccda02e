import { createHash, createPublicKey, verify } from 'node:crypto'
import bencode from 'bencode'
import type { InfoHash } from '../metainfo/metainfo.js'

/** BEP 44: an ed25519 public key is 32 bytes, a signature 64, a salt 64 at most. */
export const PUBLIC_KEY_BYTES = 32
export const SIGNATURE_BYTES = 64
export const MAX_SALT_BYTES = 64
/** BEP 44: the bencoded `v` of an item is at most 1,000 bytes. */
export const MAX_VALUE_BYTES = 1000

/** A BEP 44 mutable item as it is put and got: public key, sequence number, value, signature (and salt, when there is one). */
export interface MutableItem {
  readonly k: Buffer
  readonly seq: number
  /** Any bencodable value; BEP 46's is `{ ih: <20 bytes> }`. */
  readonly v: unknown
  readonly sig: Buffer
  readonly salt?: Buffer
}

/**
 * BEP 44: the bytes a mutable item's signature covers, the bencoded dictionary of `salt` (when
 * there is one), `seq` and `v` without its outer `d` and `e`: `4:salt6:foobar3:seqi1e1:v12:Hello World!`.
 */
export function signatureMessage (item: { readonly seq: number, readonly v: unknown, readonly salt?: Uint8Array | undefined }): Buffer {
  const fields = item.salt !== undefined && item.salt.length > 0 ? { salt: item.salt, seq: item.seq, v: item.v } : { seq: item.seq, v: item.v }
  const encoded = bencode.encode(fields)
  return Buffer.from(encoded.buffer, encoded.byteOffset + 1, encoded.length - 2)
}

/** BEP 44: a mutable item is stored under SHA-1 of its public key, followed by its salt when there is one. */
export function mutableTarget (publicKey: Uint8Array, salt?: Uint8Array): Buffer {
  const hash = createHash('sha1').update(publicKey)
  if (salt !== undefined) hash.update(salt)
  return hash.digest()
}

/**
 * Whether `signature` is `publicKey`'s ed25519 signature of `message`; false for anything malformed
 * (this is handed hostile bytes from DHT nodes). bittorrent-dht's `verify` option has this shape.
 */
export function verifyMutableSignature (signature: unknown, message: unknown, publicKey: unknown): boolean {
  if (!(signature instanceof Uint8Array) || signature.length !== SIGNATURE_BYTES) return false
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== PUBLIC_KEY_BYTES) return false
  if (!(message instanceof Uint8Array)) return false
  try {
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(publicKey).toString('base64url') }, format: 'jwk' })
    return verify(null, message, key, signature)
  } catch {
    // Not a point on the curve.
    return false
  }
}

/** The bencoded size of `v`, or undefined when it is not bencodable. */
export function encodedValueBytes (v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined
  try {
    return bencode.byteLength(v)
  } catch {
    return undefined
  }
}

/** BEP 46: the value of a mutable item pointing at a torrent. */
export function pointerValue (infoHash: InfoHash): { readonly ih: Buffer } {
  return { ih: Buffer.from(infoHash, 'hex') }
}

/** The infohash a BEP 46 value points at, or undefined when `v` is not `{ ih: <20 bytes>, … }`. */
export function infoHashOfPointer (v: unknown): InfoHash | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array) return undefined
  const ih = (v as Record<string, unknown>).ih
  if (!(ih instanceof Uint8Array) || ih.length !== 20) return undefined
  return Buffer.from(ih).toString('hex') as InfoHash
}
