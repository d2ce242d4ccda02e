import { CodedError } from '../coded-error.js'

/**
 * Stable codes for what can go wrong in the seeder. The `ET_FILE_*` and `ET_READ` codes are torrent
 * errors: the published content can no longer be served as hashed.
 */
export type SeederErrorCode =
  /** A file's size or mtime differs from what was hashed, or it came up short: the item changed. */
  | 'ET_FILE_CHANGED'
  /** A file is gone (ENOENT): the item was deleted or its drive was removed. */
  | 'ET_FILE_MISSING'
  /** Reading failed (EIO and friends): the drive is failing or vanished mid-read. */
  | 'ET_READ'
  /**
   * Opening or reading failed for lack of a resource (EMFILE, ENFILE, ENOMEM, EAGAIN): says nothing
   * about the content, so only the request fails and the torrent stays published.
   */
  | 'ET_TRANSIENT'
  /** The listening port could not be opened. */
  | 'ET_LISTEN'
  /** `start()` or `close()` called out of order. */
  | 'ET_STATE'

export type TorrentErrorCode = Extract<SeederErrorCode, 'ET_FILE_CHANGED' | 'ET_FILE_MISSING' | 'ET_READ'>

export class SeederError extends CodedError<SeederErrorCode> {}

/** The errno codes that mean "not now" rather than "not this content". */
export const TRANSIENT_ERRNO_CODES: ReadonlySet<string> = new Set(['EMFILE', 'ENFILE', 'ENOMEM', 'EAGAIN'])

export function isTransientError (error: unknown): error is SeederError & { code: 'ET_TRANSIENT' } {
  return error instanceof SeederError && error.code === 'ET_TRANSIENT'
}

export function isTorrentError (error: unknown): error is SeederError & { code: TorrentErrorCode } {
  return error instanceof SeederError && (error.code === 'ET_FILE_CHANGED' || error.code === 'ET_FILE_MISSING' || error.code === 'ET_READ')
}
