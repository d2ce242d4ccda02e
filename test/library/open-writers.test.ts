import test, { type ExecutionContext } from 'ava'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { realpathSync } from 'node:fs'
import { join } from 'node:path'
import { findWriters } from '../../appliance/library/open-writers.js'
import { writeTree } from '../helpers/content.js'
import { tempDir } from '../helpers/temp-dir.js'

/** A child process holding `path` open with `flags` ('r', 'a', 'r+') until the test ends. */
async function holdOpen (t: ExecutionContext, path: string, flags: string): Promise<number> {
  const child = spawn(process.execPath, ['-e', `require('node:fs').openSync(process.argv[1], '${flags}'); console.log('open'); setInterval(() => {}, 1000)`, path], { stdio: ['ignore', 'pipe', 'inherit'] })
  t.teardown(() => { child.kill('SIGKILL') })
  await once(child.stdout, 'data')
  return child.pid!
}

test('files open for writing below the roots are found, with the process; those open for reading are not', async (t) => {
  const root = realpathSync(tempDir(t))
  writeTree(root, { 'library/written.bin': 10, 'library/folder/appended.bin': 10, 'library/read.bin': 10, 'elsewhere/written.bin': 10 })
  const library = join(root, 'library')
  const writer = await holdOpen(t, join(library, 'written.bin'), 'r+')
  const appender = await holdOpen(t, join(library, 'folder', 'appended.bin'), 'a')
  await holdOpen(t, join(library, 'read.bin'), 'r')
  await holdOpen(t, join(root, 'elsewhere', 'written.bin'), 'r+')

  const found = await findWriters([library])
  t.deepEqual(found.map((entry) => [entry.pid, entry.command, entry.path]).sort(), [
    [writer, 'node', join(library, 'written.bin')],
    [appender, 'node', join(library, 'folder', 'appended.bin')]
  ].sort())
  t.deepEqual(await findWriters([library], { ownPid: writer }).then((list) => list.map((entry) => entry.pid)), [appender], 'a process can be left out')
  t.deepEqual(await findWriters([library], { procRoot: join(root, 'no-proc') }), [], 'no /proc: nobody is found')
})
