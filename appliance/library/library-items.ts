import type { Dirent } from 'node:fs'
import { readdir, realpath } from 'node:fs/promises'
import { join, sep } from 'node:path'
import { isJunkName } from '../metainfo/junk.js'
import { isTemporaryName } from '../metainfo/temporary-names.js'
import { isTransient } from './transient.js'

/** Why an entry is shown but not published. */
export interface ItemProblem {
  readonly code: string
  readonly message: string
}

/** One top-level entry of a library folder: it becomes one torrent. */
export interface LibraryItem {
  readonly library: string
  readonly name: string
  readonly path: string
  /** Set for an entry that is listed only to show why it is not published. */
  readonly refused?: ItemProblem
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

/**
 * The entries of a library folder that are published: every top-level file or folder, except junk,
 * temporaries of a copy in progress, hidden entries (`.Trash-1000`, `.git`, …) and `lost+found`,
 * which filesystems create on their own. Sorted by name so the order of publishing is stable.
 *
 * A symbolic link is followed only while it stays inside the library, as links inside an item are:
 * one leading out of it (a stranger's USB stick pointing at the box's own config), back to the
 * library itself, or nowhere is listed as refused (`ET_OUTSIDE_LIBRARY`) so the page shows what was
 * not published. A name that is not UTF-8 is refused too (`ET_NAME_ENCODING`).
 *
 * `undefined` when the folder cannot be read (missing, or its drive gone): its items are then
 * offline, not deleted. A transient error (out of file descriptors or memory) is thrown instead: it
 * says nothing about the folder.
 */
export async function listLibraryItems (library: string): Promise<LibraryItem[] | undefined> {
  let entries: Array<Dirent<Buffer>>
  let realLibrary: string
  try {
    entries = await readdir(library, { withFileTypes: true, encoding: 'buffer' })
    realLibrary = await realpath(library)
  } catch (error) {
    if (isTransient(error)) throw error
    return undefined
  }
  const items: LibraryItem[] = []
  for (const entry of entries) {
    const item = await itemOf(library, realLibrary, entry)
    if (item !== undefined) items.push(item)
  }
  return items.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
}

async function itemOf (library: string, realLibrary: string, entry: Dirent<Buffer>): Promise<LibraryItem | undefined> {
  let name: string
  try {
    name = utf8.decode(entry.name)
  } catch {
    name = entry.name.toString('latin1')
    const path = join(library, name)
    return { library, name, path, refused: { code: 'ET_NAME_ENCODING', message: `${path}: the name is not valid UTF-8; rename it (torrent names must be UTF-8)` } }
  }
  if (name.startsWith('.') || name === 'lost+found' || isJunkName(name) || isTemporaryName(name)) return undefined
  const path = join(library, name)
  if (!entry.isSymbolicLink()) return { library, name, path }
  const target = await realpath(path).catch((error: unknown) => {
    if (isTransient(error)) throw error
    return undefined
  })
  if (target !== undefined && target.startsWith(realLibrary.endsWith(sep) ? realLibrary : realLibrary + sep)) return { library, name, path }
  const where = target === undefined ? 'points nowhere' : target === realLibrary ? 'points back to the library itself' : 'leads out of the library'
  return { library, name, path, refused: { code: 'ET_OUTSIDE_LIBRARY', message: `${path} is a symbolic link that ${where}; it is not published (only links to something inside the library are)` } }
}
