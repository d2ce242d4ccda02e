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

export class MetainfoError extends Error {
  readonly code: MetainfoErrorCode
  readonly path: string | undefined

  constructor (code: MetainfoErrorCode, message: string, options: { path?: string, cause?: unknown } = {}) {
    super(message, { cause: options.cause })
    this.name = 'MetainfoError'
    this.code = code
    this.path = options.path
  }
}
