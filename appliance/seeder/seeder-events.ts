import type { InfoHash } from '../metainfo/metainfo.js'
import type { TorrentErrorCode } from './errors.js'

/** Why a peer connection ended; stable strings for logs and the status model. */
export type DisconnectReason =
  /** The peer closed the connection. */
  | 'peer-closed'
  | 'socket-error'
  /** No handshake in time (`handshakeMs`), or nothing heard for `idleMs`. */
  | 'timeout'
  /** Not the BitTorrent handshake (BEP 3), or (outgoing) the wrong infohash. */
  | 'bad-handshake'
  /** The infohash (or, over MSE, its HASH('req2', infohash)) is not one we publish. */
  | 'unknown-torrent'
  /** We connected to ourselves. */
  | 'self-connection'
  /** The global or the torrent's connection limit is reached, and no connection there is idle enough to replace. */
  | 'connection-limit'
  /** The address (IPv6: its /64) already has `maxConnectionsPerAddress` connections. */
  | 'address-limit'
  /** A newcomer took its place in a full seeder or torrent: it was the oldest still handshaking, or had asked for nothing for `REPLACE_AFTER_MS` (see `chooseReplaced`). */
  | 'replaced'
  /** A request outside the torrent, beyond the piece, or for more than 16 KiB. */
  | 'bad-request'
  /** A BEP 52 hash request that is not 49 bytes long (a well-formed one we cannot answer gets a hash reject). */
  | 'bad-hash-request'
  /** A length prefix above the largest message a seed accepts. */
  | 'oversized-message'
  /** Requests kept coming past the outstanding-request limit. */
  | 'request-flood'
  /** BEP 9 metadata requests kept coming after the info dictionary was sent. */
  | 'metadata-flood'
  /** The peer does not read what we send, and our send buffer overflowed. */
  | 'send-overflow'
  /** The peer read none of the blocks queued for it for `SeederOptions.stallDisconnectMs` (`stallMs` while the block pool is all taken). */
  | 'send-stalled'
  /** A plaintext handshake while `encryption` is `require`. */
  | 'plaintext-refused'
  /** MSE: a public key outside the DH group. */
  | 'mse-bad-key'
  /** MSE: no synchronisation hash within the padding allowed (garbage, or a peer that is not speaking MSE). */
  | 'mse-no-sync'
  /** MSE: the verification constant did not decipher to zeros. */
  | 'mse-bad-vc'
  /** MSE: a padding length above 512 bytes. */
  | 'mse-bad-pad'
  /** MSE: no crypto method both ends allow (RC4 required and plaintext offered, or the reverse). */
  | 'mse-no-method'
  /** The wire ended on a message BEP 3/6/10 forbids (e.g. HaveAll without the fast extension). */
  | 'protocol-violation'
  /** The peer has every piece too: two seeds have nothing to trade. */
  | 'peer-is-seed'
  /** The torrent left the catalog. */
  | 'torrent-removed'
  /** The torrent's files changed or vanished (see 'torrent-error'). */
  | 'torrent-error'
  | 'shutdown'

export type PeerDirection = 'incoming' | 'outgoing'

export interface PeerEvent {
  readonly infoHash: InfoHash
  /** `host:port` of the peer (IPv6 in brackets). */
  readonly address: string
  readonly direction: PeerDirection
  /** The connection is MSE with RC4; false for plaintext, and for MSE with the plaintext method (header obfuscation only). */
  readonly encrypted: boolean
}

export interface SeederEvents {
  /** A peer finished the handshake for a published torrent and joined its swarm. */
  'peer-connected': [event: PeerEvent]
  /** A peer that had joined a swarm left it. */
  'peer-disconnected': [event: PeerEvent & { readonly reason: DisconnectReason }]
  /** A connection ended before it joined a swarm (limits, hostile or confused peers). */
  'peer-refused': [event: { readonly address: string, readonly direction: PeerDirection, readonly reason: DisconnectReason, readonly infoHash?: string }]
  /** Piece bytes sent for a torrent since the last such event, reported about once a second. */
  uploaded: [event: { readonly infoHash: InfoHash, readonly bytes: number }]
  /** A torrent's content can no longer be served as hashed; its peers were disconnected. Cleared when the catalog publishes it again. */
  'torrent-error': [event: { readonly infoHash: InfoHash, readonly code: TorrentErrorCode, readonly message: string, readonly path?: string }]
  /** A problem the seeder works around: an unreachable extra tracker, LSD unavailable, a failed accept, reads refused for lack of file descriptors or memory (at most one a minute). */
  warning: [event: { readonly code: 'ET_TRACKER' | 'ET_LSD' | 'ET_LISTEN' | 'ET_TRANSIENT', readonly message: string, readonly infoHash?: InfoHash }]
}
