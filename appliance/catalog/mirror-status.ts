/**
 * A followed box (a `[[mirror]]`) as the follower reports it and `/api/status` shows it (docs/api.md):
 * the one shape both rooms use.
 */
export interface MirrorStatus {
  /** Its public key (hex) or its feed URL, as the config names it. */
  readonly origin: string
  /** Completed, verified items held and everseeded. */
  readonly items: number
  readonly bytes: number
  /** When the followed box last answered a poll, ms since the epoch. */
  readonly lastUpdateAt?: number
  readonly lastError?: { readonly code: string, readonly message: string }
  /** Entries refused (a .torrent not of its stated infohash, a malformed entry): never downloaded. */
  readonly refused: { readonly count: number, readonly lastReason?: string }
  /** Held items deleted (over max_bytes, or gone upstream for keep_days). */
  readonly dropped: { readonly count: number, readonly lastReason?: string }
  readonly downloading?: { readonly name: string, readonly verifiedBytes: number, readonly totalBytes: number, readonly peers: number }
}
