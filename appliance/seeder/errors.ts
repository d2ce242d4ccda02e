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
  /** The listening port could not be opened. */
  | 'ET_LISTEN'
  /** `start()` or `close()` called out of order. */
  | 'ET_STATE'

export type TorrentErrorCode = Extract<SeederErrorCode, 'ET_FILE_CHANGED' | 'ET_FILE_MISSING' | 'ET_READ'>

export class SeederError extends Error {
  readonly code: SeederErrorCode
  readonly path: string | undefined

  constructor (code: SeederErrorCode, message: string, options: { path?: string, cause?: unknown } = {}) {
    super(message, { cause: options.cause })
    this.name = 'SeederError'
    this.code = code
    this.path = options.path
  }
}

export function isTorrentError (error: unknown): error is SeederError & { code: TorrentErrorCode } {
  return error instanceof SeederError && (error.code === 'ET_FILE_CHANGED' || error.code === 'ET_FILE_MISSING' || error.code === 'ET_READ')
}
