import type { InfoHash } from '../metainfo/metainfo.js'
import { encodedValueBytes, infoHashOfPointer, MAX_VALUE_BYTES, mutableTarget, PUBLIC_KEY_BYTES, signatureMessage, verifyMutableSignature, type MutableItem } from './mutable-item.js'

/** Answers to one BEP 44 `get` kept at most: a lookup asks a few dozen nodes; a hostile crowd cannot make it keep more. */
export const MAX_GET_REPLIES = 64

/** One DHT node's answer to a BEP 44 `get`, as received: every field unchecked. */
export interface MutableReply {
  readonly k?: unknown
  readonly seq?: unknown
  readonly v?: unknown
  readonly sig?: unknown
  /** `host:port` of the node that answered (for the refusals' record). */
  readonly from: string
}

/** Asks the DHT nodes nearest `target` for the item stored there (BEP 44 `get`). */
export interface MutableGetter {
  getMutable: (target: Buffer) => Promise<MutableReply[]>
}

/** A box's verified BEP 46 pointer: the infohash of its catalog torrent, and the item's sequence number. */
export interface CatalogPointerFound {
  readonly infoHash: InfoHash
  readonly seq: number
  /** The item as the box signed it, for a follower that puts it again (`PointerKeeper`). */
  readonly item: MutableItem
}

export type PointerRefusal = 'wrong-key' | 'bad-signature' | 'stale-seq' | 'not-bep46' | 'oversize' | 'malformed'

export interface CatalogPointerResolution {
  /** The newest valid pointer not older than the last one seen; undefined when no node had one. */
  readonly found: CatalogPointerFound | undefined
  /** Answers refused, and why: forged, stale or broken items, which are never believed. */
  readonly refused: ReadonlyArray<{ readonly from: string, readonly reason: PointerRefusal }>
}

/**
 * Of the answers to a `get` for `publicKey`'s item, the one to believe: signed by that key (BEP 44),
 * `v` of BEP 46's form, `seq` not lower than `lastSeenSeq` (the highest this follower has believed
 * before: a replayed old item is never taken for news), and the highest `seq` of those.
 */
export function chooseCatalogPointer (replies: readonly MutableReply[], publicKey: Buffer, lastSeenSeq?: number): CatalogPointerResolution {
  const refused: Array<{ from: string, reason: PointerRefusal }> = []
  let found: CatalogPointerFound | undefined
  for (const reply of replies) {
    const reason = refusalOf(reply, publicKey, lastSeenSeq)
    if (reason !== undefined) {
      refused.push({ from: reply.from, reason })
      continue
    }
    const seq = reply.seq as number
    if (found === undefined || seq > found.seq) {
      found = { infoHash: infoHashOfPointer(reply.v)!, seq, item: { k: Buffer.from(reply.k as Uint8Array), seq, v: reply.v, sig: Buffer.from(reply.sig as Uint8Array) } }
    }
  }
  return { found, refused }
}

function refusalOf (reply: MutableReply, publicKey: Buffer, lastSeenSeq: number | undefined): PointerRefusal | undefined {
  const { k, seq, v, sig } = reply
  if (!(k instanceof Uint8Array) || k.length !== PUBLIC_KEY_BYTES || !(sig instanceof Uint8Array)) return 'malformed'
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) return 'malformed'
  if (!publicKey.equals(k)) return 'wrong-key'
  const bytes = encodedValueBytes(v)
  if (bytes === undefined) return 'malformed'
  if (bytes > MAX_VALUE_BYTES) return 'oversize'
  if (!verifyMutableSignature(sig, signatureMessage({ seq, v }), k)) return 'bad-signature'
  if (lastSeenSeq !== undefined && seq < lastSeenSeq) return 'stale-seq'
  if (infoHashOfPointer(v) === undefined) return 'not-bep46'
  return undefined
}

/**
 * Looks up the box `publicKey` (32 bytes) in the DHT: its BEP 46 item (no salt), verified by
 * `chooseCatalogPointer`. The caller keeps the `seq` it believes (`SeenPointers`) and passes it as
 * `lastSeenSeq` next time.
 */
export async function resolveCatalogPointer (dht: MutableGetter, publicKey: Buffer, lastSeenSeq?: number): Promise<CatalogPointerResolution> {
  if (publicKey.length !== PUBLIC_KEY_BYTES) throw new RangeError(`a box's public key is ${PUBLIC_KEY_BYTES} bytes, not ${publicKey.length}`)
  const replies = await dht.getMutable(mutableTarget(publicKey))
  return chooseCatalogPointer(replies, publicKey, lastSeenSeq)
}
