import { createCipheriv, createHash } from 'node:crypto'
import { mkdirSync, truncateSync, writeFileSync, closeSync, openSync } from 'node:fs'
import { open } from 'node:fs/promises'
import { dirname, join } from 'node:path'

/**
 * Bytes that depend only on `seed`: the AES-128-CTR keystream keyed by SHA-256 of the seed, `length`
 * bytes a call, each call going on where the last one stopped. Reproducible across runs and machines,
 * fast enough for gigabytes, and incompressible, so no tool under test gains from repeated data.
 */
/** The SHA-256 of `bytes`, in hex: what downloaded bytes are compared by. */
export function sha256 (bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

export function pseudoRandomStream (seed: string): (length: number) => Buffer {
  const key = createHash('sha256').update(seed).digest()
  const cipher = createCipheriv('aes-128-ctr', key.subarray(0, 16), key.subarray(16, 32))
  return (length) => cipher.update(Buffer.alloc(length))
}

/** The first `length` bytes of `pseudoRandomStream(seed)`. */
export function pseudoRandomBytes (seed: string, length: number): Buffer {
  return pseudoRandomStream(seed)(length)
}

const WRITE_CHUNK = 8 * 1024 * 1024

/** A file of `bytes` bytes of `pseudoRandomStream(seed)`, written a few megabytes at a time. */
export async function writePseudoRandomFile (path: string, bytes: number, seed: string): Promise<void> {
  const next = pseudoRandomStream(seed)
  const file = await open(path, 'w')
  try {
    for (let written = 0; written < bytes; written += WRITE_CHUNK) await file.write(next(Math.min(WRITE_CHUNK, bytes - written)))
  } finally {
    await file.close()
  }
}

/** Numbers in [0, 1) that depend only on `seed` (mulberry32), for sizes and choices that are the same on every run. */
export function seededRandom (seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32
  }
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
