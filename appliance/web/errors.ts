import { CodedError } from '../coded-error.js'

/**
 * Stable codes for what the web side reports. The file codes match the seeder's: to the status model,
 * a published item that changed, vanished or cannot be read is the same fact whoever noticed it.
 */
export type WebErrorCode =
  /** The port could not be opened. */
  | 'ET_LISTEN'
  /** A route handler threw; the request got a 500. */
  | 'ET_HANDLER'
  /** A file's size or mtime differs from what was hashed, or it came up short: the item changed. */
  | 'ET_FILE_CHANGED'
  /** A file is gone (ENOENT): the item was deleted or its drive was removed. */
  | 'ET_FILE_MISSING'
  /** Reading failed (EIO and friends): the drive is failing or vanished mid-read. */
  | 'ET_READ'
  /** The process is short of descriptors or memory (EMFILE, ENFILE, ENOMEM, EAGAIN): says nothing about the file. */
  | 'ET_RESOURCE'

export class WebError extends CodedError<WebErrorCode> {}
