/** What a file was when it was listed for hashing. */
export interface ListedFile {
  readonly size: number
  readonly mtimeMs: number
  /** Its inode, where the caller knows it: a file replaced by another (or by a link to one) of the same size and mtime is not the one hashed. */
  readonly ino?: number
}

/** What `fstat` says of the file now. */
export interface FileStats {
  readonly size: number
  readonly mtimeMs: number
  readonly ino: number
}

/**
 * How a file differs from the one that was hashed, in words for a message, or undefined when it is
 * still that file: the same size, the same mtime and, where known, the same inode. The one rule of
 * the hasher (after each read), the seeder and the web seed (on open and after reading); each words
 * its own error around the answer.
 */
export function howFileChanged (listed: ListedFile, now: FileStats): string | undefined {
  if (now.size !== listed.size) return `its size is ${now.size} bytes, not ${listed.size}`
  if (now.mtimeMs !== listed.mtimeMs) return 'it was modified'
  if (listed.ino !== undefined && now.ino !== listed.ino) return 'another file took its place'
  return undefined
}
