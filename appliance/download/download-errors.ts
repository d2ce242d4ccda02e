import { CodedError } from '../coded-error.js'

/** Stable codes for what can end a download. Tests assert the code. */
export type DownloadErrorCode =
  /** A path of the torrent would leave the destination folder, clash with another, or is a symlink (BEP 47). */
  | 'ET_UNSAFE_PATH'
  /** The metainfo given, or fetched from peers, is not the torrent of the infohash, or is not a valid torrent. */
  | 'ET_BAD_METADATA'
  /** Writing or reading the destination failed (disk full, permission, a drive gone). */
  | 'ET_DOWNLOAD_IO'
  /** The download was closed before it completed. */
  | 'ET_ABORTED'

export class DownloadError extends CodedError<DownloadErrorCode> {}

export function unsafePath (detail: string): DownloadError {
  return new DownloadError('ET_UNSAFE_PATH', `refused to download: ${detail}; nothing was written`)
}
