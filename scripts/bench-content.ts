import { mkdir, open, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

/* Content the benchmarks of `evertorrent create` hash. */
import { pseudoRandomStream, seededRandom } from '../test/helpers/content.js'

const KiB = 1024
const MiB = 1024 * KiB

/** Where `writeSmallFiles` puts file `index`. */
export function smallFilePath (root: string, index: number): string {
  return join(root, `dir-${String(Math.floor(index / 100)).padStart(3, '0')}`, `file-${String(index).padStart(5, '0')}.bin`)
}

/**
 * `count` files of 1–64 KiB, 100 to a folder; returns their total size. The names make the three tools
 * list the files in the same order (each folder sorted by name, as create-torrent does, equals the whole
 * paths sorted byte-wise, as mktorrent and evertorrent do) and none is hidden or junk, so the three
 * infohashes must agree.
 */
export async function writeSmallFiles (root: string, count: number): Promise<number> {
  const random = seededRandom(5000)
  const next = pseudoRandomStream('bench-create: small files')
  let total = 0
  for (let index = 0; index < count; index++) {
    const path = smallFilePath(root, index)
    if (index % 100 === 0) await mkdir(join(path, '..'), { recursive: true })
    const bytes = KiB + Math.floor(random() * (63 * KiB + 1))
    await writeFile(path, next(bytes))
    total += bytes
  }
  return total
}

/** Reads everything once so that every tool then reads from the page cache. */
export async function warmUp (paths: readonly string[]): Promise<void> {
  const buffer = Buffer.allocUnsafe(8 * MiB)
  for (const path of paths) {
    const file = await open(path, 'r')
    try {
      while ((await file.read(buffer, 0, buffer.length, null)).bytesRead > 0);
    } finally {
      await file.close()
    }
  }
}

