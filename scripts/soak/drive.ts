/**
 * A USB drive for the soak: an ext4 image on a loop device, plugged and pulled with the real mount
 * helper (config/evertorrent-mount: read-only, nosuid, nodev, noexec, under the media root), as the
 * udev rule does on the box. Needs root, losetup and mkfs.ext4.
 */
import { execFileSync } from 'node:child_process'
import { closeSync, existsSync, openSync, ftruncateSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { DRIVE_FILES, writeItems, type ExpectedItem } from './workspace.js'

const MOUNT_HELPER = fileURLToPath(new URL('../../../config/evertorrent-mount', import.meta.url))
export const DRIVE_LABEL = 'SOAKDRIVE'
/** Sparse: only what mkfs and the files write takes space. */
const IMAGE_BYTES = 256 * 1024 * 1024

/** What the drive needs from this machine; an empty list when everything is there. */
export function missingForDrive (): string[] {
  const missing: string[] = []
  if (process.getuid?.() !== 0) missing.push('root (loop devices and mount)')
  for (const tool of ['losetup', 'mkfs.ext4', 'mount', 'umount', 'blkid', 'findmnt']) {
    if (!['/usr/sbin', '/usr/bin', '/sbin', '/bin'].some((dir) => existsSync(join(dir, tool)))) missing.push(tool)
  }
  if (!existsSync(MOUNT_HELPER)) missing.push(MOUNT_HELPER)
  return missing
}

export class LoopDrive {
  private plugged = false

  private constructor (readonly loop: string, readonly items: readonly ExpectedItem[], private readonly mediaRoot: string) {}

  /** Writes the content, makes the filesystem image and attaches it to a free loop device (not yet mounted). */
  static create (work: string, mediaRoot: string): LoopDrive {
    const content = join(work, 'drive-content')
    const items = writeItems(content, DRIVE_FILES, true)
    const image = join(work, 'drive.img')
    const fd = openSync(image, 'w')
    ftruncateSync(fd, IMAGE_BYTES)
    closeSync(fd)
    run('mkfs.ext4', ['-q', '-F', '-L', DRIVE_LABEL, '-d', content, image])
    const loop = run('losetup', ['--find', '--show', image]).trim()
    return new LoopDrive(loop, items, mediaRoot)
  }

  get isPlugged (): boolean {
    return this.plugged
  }

  plug (): void {
    run(MOUNT_HELPER, ['add', this.loop], { EVERTORRENT_MEDIA_ROOT: this.mediaRoot })
    this.plugged = true
  }

  /** Unmounts it (lazily, as the helper does for a drive that is already gone). */
  pull (): void {
    this.plugged = false
    run(MOUNT_HELPER, ['remove', this.loop], { EVERTORRENT_MEDIA_ROOT: this.mediaRoot })
  }

  /** Unmounts and detaches the loop device; synchronous, so it also runs on the way out of a signal handler. */
  destroy (): void {
    for (const step of [() => { this.pull() }, () => run('losetup', ['-d', this.loop])]) {
      try {
        step()
      } catch (error) {
        process.stderr.write(`soak: cleaning up ${this.loop}: ${error instanceof Error ? error.message : String(error)}\n`)
      }
    }
  }
}

function run (file: string, args: readonly string[], env: Record<string, string> = {}): string {
  return execFileSync(file, args, { encoding: 'utf8', env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 })
}
