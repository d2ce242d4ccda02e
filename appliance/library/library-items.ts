import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { isJunkName } from '../metainfo/junk.js'

/** One top-level entry of a library folder: it becomes one torrent. */
export interface LibraryItem {
  readonly library: string
  readonly name: string
  readonly path: string
}

/**
 * The entries of a library folder that are published: every top-level file or folder, except junk,
 * hidden entries (`.Trash-1000`, `.git`, …) and `lost+found`, which filesystems create on their own.
 * Sorted by name so the order of publishing is stable. `undefined` when the folder cannot be read
 * (missing, or its drive gone): its items are then offline, not deleted.
 */
export async function listLibraryItems (library: string): Promise<LibraryItem[] | undefined> {
  let names: string[]
  try {
    names = await readdir(library, { encoding: 'utf8' })
  } catch {
    return undefined
  }
  return names
    .filter((name) => !name.startsWith('.') && name !== 'lost+found' && !isJunkName(name))
    .sort()
    .map((name) => ({ library, name, path: join(library, name) }))
}
