import bencode from 'bencode'
import { isIPv4 } from 'node:net'
import { compactPeers } from '../net/compact-peers.js'
import type { PeerAddress } from '../net/peer-address.js'

/** BEP 11: a message names at most 50 added peers (IPv4 and IPv6 together)… */
export const MAX_PEX_ADDED = 50
/** …and at most 50 dropped ones. */
export const MAX_PEX_DROPPED = 50

/** BEP 11 `added.f`: one byte of flags per added peer. */
export const PEX_FLAG = {
  /** The peer's BEP 10 handshake said `e` = 1. */
  prefersEncryption: 0x01,
  /** Seed or upload-only (BEP 21 `upload_only` in its handshake). */
  seed: 0x02,
  /** We connected to it ourselves: it accepts connections at that address. */
  reachable: 0x10
} as const

/** A peer as PEX advertises it: where it can be reached, and its `added.f` flags. */
export interface PexPeer {
  readonly address: PeerAddress
  readonly flags: number
}

export interface PexUpdate {
  readonly added: readonly PexPeer[]
  readonly dropped: readonly PeerAddress[]
}

/**
 * The BEP 11 `ut_pex` payload (the bencoded dictionary after the extended message id): `added`,
 * `added.f` and `dropped` as compact IPv4 peers (BEP 23), `added6`, `added6.f` and `dropped6` as
 * compact IPv6 ones (BEP 7). Every key is present, empty when there is nothing to say, as libtorrent sends them.
 */
export function encodePexMessage (update: PexUpdate): Uint8Array {
  const { added, dropped } = update
  if (added.length > MAX_PEX_ADDED || dropped.length > MAX_PEX_DROPPED) {
    throw new RangeError(`a PEX message names at most ${MAX_PEX_ADDED} added and ${MAX_PEX_DROPPED} dropped peers (BEP 11), not ${added.length} and ${dropped.length}`)
  }
  const added4 = added.filter((peer) => isIPv4(peer.address.ip))
  const added6 = added.filter((peer) => !isIPv4(peer.address.ip))
  return bencode.encode({
    added: compactPeers(added4.map((peer) => peer.address), 4),
    'added.f': Uint8Array.from(added4, (peer) => peer.flags),
    dropped: compactPeers(dropped, 4),
    added6: compactPeers(added6.map((peer) => peer.address), 6),
    'added6.f': Uint8Array.from(added6, (peer) => peer.flags),
    dropped6: compactPeers(dropped, 6)
  })
}
