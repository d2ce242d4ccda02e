import { statSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import test from 'ava'
import { MetainfoError } from '../../appliance/metainfo/errors.js'
import { hashPieces } from '../../appliance/metainfo/piece-hasher.js'
import { sparseFile } from '../helpers/content.js'
import { openDescriptors } from '../helpers/proc.js'
import { tempDir } from '../helpers/temp-dir.js'

const GiB = 1024 ** 3

/** CPU time this process (all its threads) spends during `ms` of wall time, in ms. */
async function cpuDuring (ms: number): Promise<number> {
  const before = process.cpuUsage()
  await sleep(ms)
  const used = process.cpuUsage(before)
  return (used.user + used.system) / 1000
}

// Alone in its file: it measures this process's CPU time, which other tests would disturb.
test('aborting rejects promptly with ET_ABORTED, closes the file and stops the hashing threads', async (t) => {
  const path = join(tempDir(t), 'four-gib.img')
  sparseFile(path, 4 * GiB)
  const stats = statSync(path)
  const controller = new AbortController()
  let abortedAt: number | undefined
  let bytesAtAbort = 0
  const hashing = hashPieces([{ path, size: stats.size, mtimeMs: stats.mtimeMs }], {
    pieceLength: 4 * 1024 * 1024,
    threads: 2,
    signal: controller.signal,
    onProgress: ({ bytesHashed }) => {
      if (abortedAt !== undefined) return
      bytesAtAbort = bytesHashed
      abortedAt = performance.now()
      controller.abort()
    }
  })
  const error = await t.throwsAsync(hashing, { instanceOf: MetainfoError })
  const rejectedAfterMs = performance.now() - abortedAt!
  t.is(error?.code, 'ET_ABORTED')
  t.true(bytesAtAbort < 4 * GiB, 'the abort came before the end, or this test proves nothing')
  t.log(`rejected ${rejectedAfterMs.toFixed(1)} ms after abort(), at ${bytesAtAbort} of ${4 * GiB} bytes`)
  t.deepEqual(await openDescriptors(process.pid, path), [], 'the file is still open after the promise settled')
  // Hashing the rest would keep the reader and two hashers busy for seconds; stopped threads use no CPU.
  await sleep(200)
  const cpuMs = await cpuDuring(1000)
  t.log(`CPU time in the second after: ${cpuMs.toFixed(0)} ms`)
  t.true(cpuMs < 300, `threads still busy after the abort: ${cpuMs.toFixed(0)} ms of CPU in 1 s`)
})
