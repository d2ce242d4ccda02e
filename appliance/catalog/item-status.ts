import type { InfoHash } from '../metainfo/metainfo.js'

/**
 * `waiting`: new or changed content that is still being written (see the settle rule on
 * the library's `Publisher`); `offline`: its library (a drive) is gone; the torrent is withdrawn but remembered,
 * and comes back without rehashing; `paused`: withdrawn the same way on a person's request, until resumed.
 */
export type ItemState = 'waiting' | 'queued' | 'hashing' | 'seeding' | 'offline' | 'paused' | 'error'

/** What the status model learns about one library item. */
export interface ItemStatus {
  readonly path: string
  readonly name: string
  readonly library: string
  readonly state: ItemState
  readonly infoHash?: InfoHash
  readonly bytesHashed?: number
  readonly totalBytes?: number
  readonly error?: { readonly code: string, readonly message: string }
  /** True when the torrent came from the resume store without hashing. */
  readonly resumed?: boolean
}
