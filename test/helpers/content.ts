import { createCipheriv, createHash } from 'node:crypto'
import { mkdirSync, truncateSync, writeFileSync, closeSync, openSync } from 'node:fs'
import { dirname, join } from 'node:path'

/**
 * `length` bytes that depend only on `seed`: AES-128-CTR keystream keyed by SHA-256 of the seed.
 * Reproducible across runs and machines, and fast enough for hundreds of megabytes.
 */
export function pseudoRandomBytes (seed: string, length: number): Buffer {
  const key = createHash('sha256').update(seed).digest()
  const cipher = createCipheriv('aes-128-ctr', key.subarray(0, 16), key.subarray(16, 32))
  return cipher.update(Buffer.alloc(length))
}

/** What a file of a tree holds: a byte count (filled with pseudo-random bytes seeded by its path), text or bytes. */
export type FileContent = number | string | Uint8Array

/**
 * Writes files below `root`, making folders as needed. Keys are `/`-separated relative paths;
 * returns the bytes written for each, for reference hashing.
 */
export function writeTree (root: string, files: Readonly<Record<string, FileContent>>): Map<string, Buffer> {
  const written = new Map<string, Buffer>()
  for (const [relative, content] of Object.entries(files)) {
    const path = join(root, ...relative.split('/'))
    mkdirSync(dirname(path), { recursive: true })
    const bytes = typeof content === 'number' ? pseudoRandomBytes(relative, content) : Buffer.from(content)
    writeFileSync(path, bytes)
    written.set(relative, bytes)
  }
  return written
}

/** A file of `size` bytes that takes no disk space (a hole reads as zeros). */
export function sparseFile (path: string, size: number): void {
  mkdirSync(dirname(path), { recursive: true })
  closeSync(openSync(path, 'w'))
  truncateSync(path, size)
}
