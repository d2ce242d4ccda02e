import { CodedError } from '../coded-error.js'

/** Stable codes for everything that can go wrong while making a torrent. Tests assert the code. */
export type MetainfoErrorCode =
  | 'ET_PATH_MISSING'
  | 'ET_UNREADABLE'
  | 'ET_EMPTY'
  | 'ET_CHANGED'
  | 'ET_READ'
  | 'ET_NAME_ENCODING'
  | 'ET_BAD_OPTION'
  | 'ET_BAD_TORRENT'
  | 'ET_ABORTED'
  | 'ET_TOO_MANY_FILES'

export class MetainfoError extends CodedError<MetainfoErrorCode> {}

/** `detail`: how it changed, in the words of `howFileChanged`. */
export function changedWhileHashing (path: string, detail: string): MetainfoError {
  return new MetainfoError('ET_CHANGED', `${path} changed while it was being hashed (${detail}); try again once it is no longer being written`, { path })
}

/** Turns a filesystem error into one a person can act on. */
export function fsError (error: unknown, path: string): MetainfoError {
  const code = (error as NodeJS.ErrnoException).code
  if (code === 'ENOENT') return new MetainfoError('ET_PATH_MISSING', `${path} does not exist`, { path, cause: error })
  if (code === 'EACCES' || code === 'EPERM') {
    return new MetainfoError('ET_UNREADABLE', `${path} cannot be read: permission denied`, { path, cause: error })
  }
  const detail = error instanceof Error ? error.message : String(error)
  return new MetainfoError('ET_READ', `${path} could not be read: ${detail}`, { path, cause: error })
}
