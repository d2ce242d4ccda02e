/**
 * The shape of the errors the rooms raise: a stable `code` (tests, logs and callers key on it, never
 * on the wording), a message for people, and the file it is about where there is one. Each room
 * narrows `Code` to its own list (`MetainfoErrorCode`, `SeederErrorCode`, …) and names its class.
 */
export class CodedError<Code extends string> extends Error {
  readonly code: Code
  /** The file, device or setting it is about. */
  readonly path: string | undefined

  constructor (code: Code, message: string, options: { path?: string, cause?: unknown } = {}) {
    super(message, { cause: options.cause })
    this.name = new.target.name
    this.code = code
    this.path = options.path
  }
}
