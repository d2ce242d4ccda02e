/**
 * errno codes that say "not now" rather than anything about the files: the process is out of file
 * descriptors or memory, or a call was interrupted. A scan that meets one keeps everything as it is
 * and is tried again a little later; only the filesystem's own answers (ENOENT, EIO, a changed size
 * or mtime, an unmounted drive) change what is published. EBUSY is not among them: Linux returns it
 * for mount points and devices in use, never for reading a file or a folder.
 */
const TRANSIENT_CODES = new Set(['EMFILE', 'ENFILE', 'ENOMEM', 'EAGAIN', 'EINTR'])

/** True for an error, or an error wrapping one (`cause`), with a transient errno code. */
export function isTransient (error: unknown): boolean {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth++) {
    const code = (current as NodeJS.ErrnoException).code
    if (typeof code === 'string' && TRANSIENT_CODES.has(code)) return true
  }
  return false
}
