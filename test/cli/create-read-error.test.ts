import { mkdirSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import test from 'ava'
import { createTorrent } from '../../appliance/metainfo/create-torrent.js'
import { MetainfoError } from '../../appliance/metainfo/errors.js'
import { cliErrorMessage, runCli } from '../helpers/cli.js'
import { mountFailingDisk } from '../helpers/failing-disk.js'
import { tempDir } from '../helpers/temp-dir.js'

const MiB = 1024 * 1024

// A real EIO: the file's second mebibyte sits past the end of a loop device cut short under its filesystem.
async function failingContent (t: Parameters<typeof mountFailingDisk>[0]): Promise<{ root: string, broken: string }> {
  const root = await mountFailingDisk(t, {
    files: { 'a.txt': 100_000, 'sub/broken.bin': 4 * MiB },
    failingFile: 'sub/broken.bin',
    readableBytes: MiB
  })
  return { root, broken: join(root, 'sub', 'broken.bin') }
}

test('a disk read error is ET_READ naming the file', async (t) => {
  const { root, broken } = await failingContent(t)
  const error = await t.throwsAsync(createTorrent(root, { threads: 2 }), { instanceOf: MetainfoError })
  t.is(error?.code, 'ET_READ')
  t.is(error?.path, broken)
  t.regex(error?.message ?? '', /EIO|i\/o error/i)
})

test('the CLI reports a disk read error in one line, exit 1, and writes nothing', async (t) => {
  const { root, broken } = await failingContent(t)
  const out = join(tempDir(t), 'out')
  mkdirSync(out)
  const result = await runCli(['create', root, '-o', join(out, 'disk.torrent')], { cwd: out })
  const message = cliErrorMessage(result, 1)
  t.true(message.includes(broken), message)
  t.regex(message, /EIO|i\/o error/i)
  t.deepEqual(readdirSync(out), [])
})
