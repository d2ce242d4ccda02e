import test from 'ava'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs'
import { appendFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { createTorrent } from '../../appliance/metainfo/create-torrent.js'
import type { StatusDocument } from '../../appliance/web/status-document.js'
import { pseudoRandomBytes } from '../helpers/content.js'
import { runOk } from '../helpers/run.js'
import { ServeProcess, type LogLine } from '../helpers/serve-process.js'
import { tempDir } from '../helpers/temp-dir.js'

// Content copied into a library while serve runs: it is published once, complete, and the log says
// so in a few lines. The settle time is 2 s here (10 s by default) to keep the tests short.

const MiB = 1024 * 1024
const SETTLE_SECONDS = 2

async function startServe (t: import('ava').ExecutionContext, root: string): Promise<{ serve: ServeProcess, library: string }> {
  const library = join(root, 'library')
  mkdirSync(library)
  const serve = await ServeProcess.start(t, { libraries: [library], stateDir: join(root, 'state'), settings: { 'library.settle_seconds': SETTLE_SECONDS } })
  return { serve, library }
}

/** Log lines about one item: by its path, or by its name for `published`. */
function linesAbout (serve: ServeProcess, path: string, name: string): LogLine[] {
  return serve.lines.filter((line) => line.path === path || (line.msg === 'published' && line.name === name))
}

test('a file written in five 20 MiB writes a second apart is published once, complete, in three log lines', async (t) => {
  const root = tempDir(t)
  const { serve, library } = await startServe(t, root)
  const path = join(library, 'video.bin')
  for (let index = 0; index < 5; index++) {
    if (index > 0) await sleep(1000)
    await appendFile(path, pseudoRandomBytes(`part ${index}`, 20 * MiB))
  }
  const published = await serve.waitFor((line) => line.msg === 'published' && line.name === 'video.bin', 60_000)
  // Longer than the settle time: a second torrent would have been published by now.
  await sleep((SETTLE_SECONDS + 2) * 1000)

  t.is(published.size, String(100 * MiB))
  t.is(published.infohash, (await createTorrent(path)).metainfo.infoHash)
  t.deepEqual(linesAbout(serve, path, 'video.bin').map((line) => line.msg), ['waiting for the copy to finish', 'hashing', 'published'])
  t.deepEqual(serve.lines.filter((line) => line.level !== 'info'), [])
})

test('cp -a of a large file gives no error and one torrent', async (t) => {
  const root = tempDir(t)
  const source = join(root, 'source', 'disc.iso')
  mkdirSync(join(root, 'source'))
  writeFileSync(source, pseudoRandomBytes('disc', 150 * MiB))
  const lastYear = new Date(Date.now() - 365 * 86_400_000)
  utimesSync(source, lastYear, lastYear)
  const { serve, library } = await startServe(t, root)

  await runOk('cp', ['-a', source, library])
  const published = await serve.waitFor((line) => line.msg === 'published' && line.name === 'disc.iso', 60_000)
  await sleep((SETTLE_SECONDS + 2) * 1000)

  t.is(published.size, String(150 * MiB))
  t.is(published.infohash, (await createTorrent(source)).metainfo.infoHash)
  t.deepEqual(linesAbout(serve, join(library, 'disc.iso'), 'disc.iso').map((line) => line.msg), ['waiting for the copy to finish', 'hashing', 'published'])
  t.deepEqual(serve.lines.filter((line) => line.level !== 'info'), [])
})

test('a file held open for writing stays waiting past the settle time, and is published once closed', async (t) => {
  const root = tempDir(t)
  const { serve, library } = await startServe(t, root)
  const path = join(library, 'recording.wav')
  // Writes 1 MiB, then nothing for 6 s (three settle times), then 1 MiB more, and closes.
  const script = `
    const fs = require('node:fs')
    const fd = fs.openSync(process.argv[1], 'w')
    fs.writeSync(fd, Buffer.alloc(1048576, 1))
    console.log('first')
    setTimeout(() => {
      fs.writeSync(fd, Buffer.alloc(1048576, 2))
      fs.closeSync(fd)
    }, 6000)`
  const writer = spawn(process.execPath, ['-e', script, path], { stdio: ['ignore', 'pipe', 'inherit'] })
  t.teardown(() => { writer.kill('SIGKILL') })
  const exited = once(writer, 'exit')
  await once(writer.stdout, 'data')

  await serve.waitFor((line) => line.msg === 'waiting for the copy to finish' && line.path === path, 30_000)
  await sleep((SETTLE_SECONDS + 1.5) * 1000)
  const status = await (await fetch(`http://127.0.0.1:${serve.httpPort}/api/status`)).json() as StatusDocument
  t.is(writer.exitCode, null, 'the writer still has the file open')
  t.is(status.items.find((item) => item.name === 'recording.wav')?.state, 'waiting', 'unchanged for longer than the settle time, but open for writing')
  t.false(serve.lines.some((line) => line.msg === 'published'))

  await exited
  const published = await serve.waitFor((line) => line.msg === 'published' && line.name === 'recording.wav', 30_000)
  t.is(published.size, String(2 * MiB))
  t.is(serve.lines.filter((line) => line.msg === 'published').length, 1)
})
