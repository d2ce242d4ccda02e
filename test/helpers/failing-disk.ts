import { closeSync, mkdirSync, openSync, readSync, statSync, truncateSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { ExecutionContext } from 'ava'
import { writeTree, type FileContent } from './content.js'
import { run, runOk } from './run.js'
import { tempDir } from './temp-dir.js'

const BLOCK = 4096

export interface FailingDiskOptions {
  /** The filesystem's files, as for `writeTree`. */
  readonly files: Readonly<Record<string, FileContent>>
  /** The file whose data becomes unreadable (written last, so no other file's data lies beyond it). */
  readonly failingFile: string
  /** Bytes of `failingFile` that stay readable; a multiple of 4096. Reading further fails with EIO. */
  readonly readableBytes: number
}

/**
 * A real disk read error, for tests: a small ext4 filesystem on a loop device, mounted read-only,
 * whose device is then cut short in the middle of one file. Reading that file past the cut makes the
 * block layer fail the request ("attempt to access beyond end of device") and read(2) return EIO,
 * just as a failing drive would. Needs root, losetup, mke2fs and debugfs; fails loudly without them.
 * Returns the mount point; unmounted and detached when the test ends.
 */
export async function mountFailingDisk (t: ExecutionContext, options: FailingDiskOptions): Promise<string> {
  if (options.readableBytes % BLOCK !== 0) throw new Error('readableBytes must be a multiple of 4096')
  const work = tempDir(t, 'evertorrent-disk-')
  const source = join(work, 'source')
  const image = join(work, 'disk.img')
  const mountPoint = join(work, 'mnt')
  mkdirSync(mountPoint)
  const written = writeTree(source, options.files)
  const dataBytes = [...written.values()].reduce((sum, bytes) => sum + bytes.length, 0)
  closeSync(openSync(image, 'w'))
  truncateSync(image, Math.ceil((dataBytes + 8 * 1024 * 1024) / (1024 * 1024)) * 1024 * 1024)
  // No journal: nothing but the files' own blocks after the metadata, and no writes on mount.
  await runOk('mke2fs', ['-q', '-F', '-t', 'ext4', '-O', '^has_journal', '-b', String(BLOCK), image])
  await populate(image, source, [...written.keys()], options.failingFile)
  const cut = await physicalBlock(image, options.failingFile, options.readableBytes / BLOCK)
  await checkNothingElseBeyond(image, written, options.failingFile, cut)

  const device = (await runOk('losetup', ['--find', '--show', image])).stdout.trim()
  let mounted = false
  t.teardown(async () => {
    try {
      // Fails if a file on it is still open: the code under test must have closed everything by now.
      if (mounted) await runOk('umount', [mountPoint])
    } catch (error) {
      await run('umount', ['--lazy', mountPoint])
      throw error
    } finally {
      // Only if it is still ours: a device freed early (autoclear) may already serve someone else.
      const backing = await run('losetup', ['--list', '--noheadings', '--output', 'BACK-FILE', device])
      if (backing.stdout.trim() === image) await run('losetup', ['--detach', device])
    }
  })
  await runOk('mount', ['-o', 'ro', device, mountPoint])
  mounted = true
  truncateSync(image, cut * BLOCK)
  await runOk('losetup', ['--set-capacity', device])
  checkReadFails(join(mountPoint, options.failingFile), options.readableBytes)
  return mountPoint
}

/**
 * Writes the folders, then the files with the failing one last: debugfs allocates blocks in the order
 * it writes, so only that file's data lies beyond the cut.
 */
async function populate (image: string, source: string, files: readonly string[], failingFile: string): Promise<void> {
  if (files.some((file) => /\s/.test(file))) throw new Error('debugfs commands cannot name files with white space')
  const folders = new Set(files.flatMap((file) => file.split('/').slice(0, -1).map((_, index, parts) => parts.slice(0, index + 1).join('/'))))
  const ordered = [...files.filter((file) => file !== failingFile), failingFile]
  const commands = [
    ...[...folders].sort().map((folder) => `mkdir /${folder}`),
    ...ordered.flatMap((file) => {
      const slash = file.lastIndexOf('/')
      return [`cd /${file.slice(0, slash + 1)}`, `write ${join(source, file)} ${file.slice(slash + 1)}`]
    })
  ]
  const script = join(source, '..', 'debugfs-commands')
  writeFileSync(script, commands.join('\n') + '\n')
  const { stdout, stderr } = await runOk('debugfs', ['-w', '-f', script, image])
  if (/error|not found|cannot|can't/i.test(stdout + stderr.replace(/^debugfs [\d.]+ \(.*\)\n/, ''))) throw new Error(`debugfs failed to fill ${image}:\n${stdout}${stderr}`)
}

async function debugfs (image: string, request: string): Promise<string> {
  return (await runOk('debugfs', ['-R', request, image])).stdout
}

async function physicalBlock (image: string, file: string, logicalBlock: number): Promise<number> {
  const block = Number((await debugfs(image, `bmap /${file} ${logicalBlock}`)).trim())
  if (!Number.isSafeInteger(block) || block <= 0) throw new Error(`debugfs found no block ${logicalBlock} of ${file}`)
  return block
}

/** Every data block of the other files, and of the failing file before the cut, must lie before the cut. */
async function checkNothingElseBeyond (image: string, files: ReadonlyMap<string, Buffer>, failingFile: string, cut: number): Promise<void> {
  for (const [file, bytes] of files) {
    if (bytes.length === 0) continue
    const blocks = (await debugfs(image, `blocks /${file}`)).trim().split(/\s+/).map(Number)
    const readable = file === failingFile ? blocks.slice(0, blocks.indexOf(cut)) : blocks
    const beyond = readable.filter((block) => block >= cut)
    if (beyond.length > 0) throw new Error(`${file} has blocks beyond the cut at ${cut}: the disk layout is not what the test needs`)
  }
}

/** Proves the mechanism works here: the first bytes read, then EIO. */
function checkReadFails (path: string, readableBytes: number): void {
  const fd = openSync(path, 'r')
  const buffer = Buffer.alloc(1024 * 1024)
  let position = 0
  try {
    for (;;) {
      const read = readSync(fd, buffer, 0, buffer.length, position)
      if (read === 0) break
      position += read
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EIO' && position >= readableBytes) return
    throw error
  } finally {
    closeSync(fd)
  }
  throw new Error(`${path} read to the end (${position} of ${statSync(path).size} bytes) without an I/O error`)
}
