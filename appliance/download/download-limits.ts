import type { Settings } from '../config/settings.js'

/** The bounds of one download; the settings-backed ones come from `download.*` (see `downloadLimitsFrom`). */
export interface DownloadLimits {
  /** Peer connections at once. */
  readonly maxPeers: number
  /** Peer connections at once while the metadata is still unknown (each may hold up to `maxMetadataBytes`). */
  readonly maxMetadataPeers: number
  /** Peer addresses remembered (dialled, waiting, or done with). */
  readonly maxKnownPeers: number
  /** A `metadata_size` above this is refused (BEP 9). */
  readonly maxMetadataBytes: number
  /** Block requests out to one peer: deep enough to fill a fast link (64 × 16 KiB = 1 MiB in flight). */
  readonly maxRequestsPerPeer: number
  /** Pieces started and not yet verified. */
  readonly maxActivePieces: number
  /** Received bytes waiting for the disk; beyond it no new request goes out. */
  readonly maxWritingBytes: number
  readonly maxOpenFiles: number
  /** Pieces fetched at once from each web seed. */
  readonly webSeedPieces: number
  /** Failures in a row after which a web seed is abandoned. */
  readonly webSeedFailures: number
  readonly connectTimeoutMs: number
  readonly requestTimeoutMs: number
  readonly idleTimeoutMs: number
  /** Times a peer that left is dialled again. */
  readonly peerAttempts: number
  readonly retryDelayMs: number
  /** The resume state is written after this many newly verified pieces, or this long after the last write. */
  readonly resumeEveryPieces: number
  readonly resumeEveryMs: number
}

export const DEFAULT_DOWNLOAD_LIMITS: DownloadLimits = {
  maxPeers: 30,
  maxMetadataPeers: 3,
  maxKnownPeers: 1000,
  maxMetadataBytes: 8 * 1024 * 1024,
  maxRequestsPerPeer: 64,
  maxActivePieces: 16,
  maxWritingBytes: 4 * 1024 * 1024,
  maxOpenFiles: 16,
  webSeedPieces: 2,
  webSeedFailures: 5,
  connectTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  idleTimeoutMs: 120_000,
  peerAttempts: 5,
  retryDelayMs: 2_000,
  resumeEveryPieces: 32,
  resumeEveryMs: 5_000
}

/** The limits a service's settings give, over the fixed defaults. */
export function downloadLimitsFrom (settings: Settings): DownloadLimits {
  return {
    ...DEFAULT_DOWNLOAD_LIMITS,
    maxPeers: settings['download.max_peers'],
    maxMetadataBytes: settings['download.max_metadata_bytes'],
    maxRequestsPerPeer: settings['download.max_requests_per_peer'],
    maxActivePieces: settings['download.max_active_pieces']
  }
}
