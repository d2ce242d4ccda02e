import { open, readdir, rename, rm, type FileHandle } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { randomBytes } from 'node:crypto'

/** `.<name>.<12 hex>.tmp`: the temporary files of writeFileAtomic. */
const TEMPORARY_NAME = /^\..+\.[0-9a-f]{12}\.tmp$/

/**
 * Replaces `path` with `data` (or its parts, one after the other) so that a reader (or a restart after
 * a power cut) sees the old content or the new, never a mix: write a temporary file beside it, fsync,
 * rename, fsync the folder. `mode` (default 0o644, less the umask) is the file's from its creation: a
 * secret is never readable by others, even for a moment.
 */
export async function writeFileAtomic (path: string, data: Uint8Array | string | readonly Uint8Array[], options: { readonly mode?: number } = {}): Promise<void> {
  const folder = dirname(path)
  const temporary = join(folder, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`)
  try {
    const file = await open(temporary, 'wx', options.mode ?? 0o644)
    try {
      if (Array.isArray(data)) {
        for (const part of data as readonly Uint8Array[]) await writeAll(file, part)
      } else {
        await file.writeFile(data as Uint8Array | string)
      }
      await file.sync()
    } finally {
      await file.close()
    }
    await rename(temporary, path)
  } catch (error) {
    await rm(temporary, { force: true })
    throw aboutTarget(error, path, temporary)
  }
  await syncFolder(folder)
}

async function writeAll (file: FileHandle, bytes: Uint8Array): Promise<void> {
  for (let written = 0; written < bytes.length;) written += (await file.write(bytes, written)).bytesWritten
}

/**
 * The error of writing `path` rather than of its temporary file, whose name means nothing to the
 * person reading it; the errno code stays for callers that act on it (ENOSPC, EMFILE…).
 */
function aboutTarget (error: unknown, path: string, temporary: string): unknown {
  const { code, message } = error as NodeJS.ErrnoException
  if (typeof code !== 'string' || !message.includes(temporary)) return error
  const reason = code === 'ENOENT'
    ? `the folder ${dirname(path)} does not exist`
    : `${/^\w+: (.+?), \w+ '/.exec(message)?.[1] ?? 'failed'} (${code})`
  return Object.assign(new Error(`cannot write ${path}: ${reason}`, { cause: error }), { code, path })
}

async function syncFolder (folder: string): Promise<void> {
  const handle = await open(folder, 'r')
  try {
    await handle.sync()
  } catch (error) {
    // Some filesystems (and macOS) refuse fsync on a folder; the rename is then as durable as it gets.
    if ((error as NodeJS.ErrnoException).code !== 'EINVAL' && (error as NodeJS.ErrnoException).code !== 'EISDIR') throw error
  } finally {
    await handle.close()
  }
}

/**
 * Deletes what writeFileAtomic left half-done in `folder` when the process died (a power cut) between
 * creating a temporary file and renaming it. Only for the folder's one writer, before it writes.
 */
export async function removeStaleTemporaries (folder: string): Promise<number> {
  let removed = 0
  for (const name of await readdir(folder)) {
    if (!TEMPORARY_NAME.test(name)) continue
    await rm(join(folder, name), { force: true })
    removed++
  }
  return removed
}
