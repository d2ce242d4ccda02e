import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ExecutionContext } from 'ava'

/** A fresh folder under the system temp folder, removed with everything in it when the test ends. */
export function tempDir (t: ExecutionContext, prefix = 'evertorrent-test-'): string {
  const folder = makeTempDir(prefix)
  t.teardown(() => removeTempDir(folder))
  return folder
}

/** For fixtures shared by a file's tests: make it in `test.before`, remove it in `test.after.always`. */
export function makeTempDir (prefix = 'evertorrent-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix))
}

export function removeTempDir (folder: string): void {
  rmSync(folder, { recursive: true, force: true })
}
