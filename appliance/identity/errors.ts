import { CodedError } from '../coded-error.js'

export type IdentityErrorCode =
  /** The key file exists but is not a key this box wrote (damaged, truncated, edited). */
  | 'ET_IDENTITY_DAMAGED'
  /** The key file cannot be read or written (permissions, a full disk). */
  | 'ET_IDENTITY_IO'
  /** A catalog document a follower got is not one (malformed, over its bounds, an unknown version). */
  | 'ET_CATALOG_DOCUMENT'

export class IdentityError extends CodedError<IdentityErrorCode> {}
