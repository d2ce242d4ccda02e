import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { readdir } from 'node:fs/promises'
import { join, relative, sep } from 'node:path'

/** Every file below `dir`, by `/`-separated relative path, with the hex SHA-256 of its bytes. */
export async function sha256Tree (dir: string): Promise<Record<string, string>> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true })
  const files = entries.filter((entry) => !entry.isDirectory()).map((entry) => join(entry.parentPath, entry.name)).sort()
  const tree: Record<string, string> = {}
  for (const file of files) tree[relative(dir, file).split(sep).join('/')] = await sha256File(file)
  return tree
}

/** The hex SHA-256 of a file's bytes. */
export async function sha256File (path: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}
