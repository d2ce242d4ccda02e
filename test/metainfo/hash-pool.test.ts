import test from 'ava'
import { createHash } from 'node:crypto'
import { statSync } from 'node:fs'
import { join } from 'node:path'
import { MetainfoError } from '../../appliance/metainfo/errors.js'
import type { HashFile } from '../../appliance/metainfo/hash-protocol.js'
import { HashPool } from '../../appliance/metainfo/piece-hasher.js'
import { sparseFile, writeTree } from '../helpers/content.js'
import { tempDir } from '../helpers/temp-dir.js'

function listed (path: string): HashFile {
  const stats = statSync(path)
  return { path, size: stats.size, mtimeMs: stats.mtimeMs }
}

function referencePieces (bytes: Buffer, pieceLength: number): Buffer {
  const digests: Buffer[] = []
  for (let start = 0; start < bytes.length; start += pieceLength) digests.push(createHash('sha1').update(bytes.subarray(start, start + pieceLength)).digest())
  return Buffer.concat(digests)
}

test('one pool hashes many jobs in turn, and a failed or aborted job does not spoil the next', async (t) => {
  const root = tempDir(t)
  const written = writeTree(root, { 'a.bin': 3_000_000, 'b.bin': 40_000, 'c.bin': 1_048_576 })
  sparseFile(join(root, 'big.img'), 2 * 1024 ** 3)
  const pool = new HashPool(2)
  t.teardown(async () => await pool.close())

  for (const name of ['a.bin', 'b.bin', 'c.bin']) {
    t.deepEqual(await pool.hash([listed(join(root, name))], { pieceLength: 32_768 }), referencePieces(written.get(name)!, 32_768), name)
  }

  const missing = await t.throwsAsync(pool.hash([{ path: join(root, 'gone.bin'), size: 10, mtimeMs: 0 }], { pieceLength: 16_384 }), { instanceOf: MetainfoError })
  t.is(missing?.code, 'ET_PATH_MISSING')
  t.deepEqual(await pool.hash([listed(join(root, 'b.bin'))], { pieceLength: 16_384 }), referencePieces(written.get('b.bin')!, 16_384))

  const controller = new AbortController()
  const aborted = pool.hash([listed(join(root, 'big.img'))], { pieceLength: 4 * 1024 * 1024, signal: controller.signal, onProgress: () => controller.abort() })
  t.is((await t.throwsAsync(aborted, { instanceOf: MetainfoError }))?.code, 'ET_ABORTED')
  // Pieces longer than a chunk were left half-hashed by the abort; the next job must start clean.
  t.deepEqual(await pool.hash([listed(join(root, 'a.bin'))], { pieceLength: 2 * 1024 * 1024 }), referencePieces(written.get('a.bin')!, 2 * 1024 * 1024))
})
