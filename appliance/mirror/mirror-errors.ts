import { CodedError } from '../coded-error.js'

/** Stable codes for what a mirror refuses or fails at; logs, status and tests key on them. */
export type MirrorErrorCode =
  /** The followed box, its feed or a .torrent could not be reached, or answered an error status (transient). */
  | 'ET_MIRROR_UNREACHABLE'
  /** An answer larger than its bound, or slower than its time limit (transient). */
  | 'ET_MIRROR_TOO_LARGE'
  /** The feed or catalog is not what it claims to be: not JSON Feed, a bad entry, a .torrent of another infohash. */
  | 'ET_MIRROR_REFUSED'
  /** Following by public key needs the DHT, which is off. */
  | 'ET_MIRROR_NO_DHT'

export class MirrorError extends CodedError<MirrorErrorCode> {}
