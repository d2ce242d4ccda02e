import { execFile } from 'node:child_process'
import { EventEmitter } from 'node:events'
import { readFile, realpath, stat } from 'node:fs/promises'
import { basename, dirname, join, sep } from 'node:path'
import { promisify } from 'node:util'
import { mountsUnder, parseMountInfo, type Mount } from './mount-table.js'
import { isTransient } from './transient.js'

/** A drive mounted under the media root, and the folder of it that is published. */
export interface Drive {
  readonly mountPoint: string
  readonly name: string
  readonly source: string
  readonly fsType: string
  readonly library: string
}

export type RunCommand = (file: string, args: readonly string[]) => Promise<void>

export interface DriveWatcherOptions {
  /** Where the mount helper mounts drives, one folder each (`/media/evertorrent`). */
  readonly mediaRoot: string
  /** When a drive has a top-level folder of this name, only that folder is published. */
  readonly publishFolder: string | undefined
  /** Run for each drive on eject, `{mountpoint}` and `{device}` replaced. */
  readonly ejectCommand: readonly string[]
  readonly mountInfoPath?: string
  readonly pollIntervalMs?: number
  readonly run?: RunCommand
}

export interface DriveWatcherEvents {
  change: [drives: readonly Drive[]]
  warning: [message: string]
}

const execFileAsync = promisify(execFile)

/**
 * Notices drives mounted and unmounted below the media root, by reading the kernel's mount table
 * every second (it offers no inotify; a poll of one small file is cheap), and ejects them on request.
 */
export class DriveWatcher extends EventEmitter<DriveWatcherEvents> {
  private current: Drive[] = []
  private timer: NodeJS.Timeout | undefined
  private polling: Promise<void> | undefined
  private readonly mountInfoPath: string
  private readonly run: RunCommand

  constructor (private readonly options: DriveWatcherOptions) {
    super()
    this.mountInfoPath = options.mountInfoPath ?? '/proc/self/mountinfo'
    this.run = options.run ?? (async (file, args) => { await execFileAsync(file, [...args], { timeout: 60_000 }) })
  }

  get drives (): readonly Drive[] {
    return this.current
  }

  /**
   * Whether `library` is readable as a drive right now: not a drive of ours, or a drive whose mount
   * point is still a mount point (an unmounted one is an empty folder on the root filesystem).
   */
  async isMounted (library: string): Promise<boolean> {
    const drive = this.current.find((candidate) => candidate.library === library)
    if (drive === undefined) return true
    try {
      const [mount, parent] = await Promise.all([stat(drive.mountPoint), stat(dirname(drive.mountPoint))])
      return mount.dev !== parent.dev
    } catch (error) {
      // Out of memory says nothing about the drive; the publisher keeps its items as they are.
      if (isTransient(error)) throw error
      return false
    }
  }

  async start (): Promise<void> {
    await this.poll()
    this.timer = setInterval(() => { void this.poll() }, this.options.pollIntervalMs ?? 1000)
    this.timer.unref()
  }

  async close (): Promise<void> {
    clearInterval(this.timer)
    await this.polling
  }

  /** Unmounts every drive; resolves when each is gone from the mount table, or rejects naming those still mounted. */
  async eject (): Promise<void> {
    await this.ejectDrives(this.current)
  }

  /**
   * Unmounts the drive whose library (or mount point) is `library`, the others staying as they are;
   * resolves when it is gone from the mount table, rejects when it is still there or is no drive.
   */
  async ejectDrive (library: string): Promise<void> {
    const drive = this.current.find((candidate) => candidate.library === library || candidate.mountPoint === library)
    if (drive === undefined) throw new Error(`could not eject ${library}: no drive of the media root is mounted there`)
    await this.ejectDrives([drive])
  }

  private async ejectDrives (drives: readonly Drive[]): Promise<void> {
    const failures = new Map<string, string>()
    for (const drive of drives) {
      const [file, ...args] = this.options.ejectCommand.map((part) => part.replaceAll('{mountpoint}', drive.mountPoint).replaceAll('{device}', basename(drive.source)))
      try {
        await this.run(file!, args)
      } catch (error) {
        failures.set(drive.mountPoint, error instanceof Error ? error.message.split('\n')[0]! : String(error))
      }
    }
    // A look begun before the unmount would still see the drives: wait for it, then look again.
    await this.polling
    await this.poll()
    for (const drive of drives) {
      if (!failures.has(drive.mountPoint) && this.current.some((mounted) => mounted.mountPoint === drive.mountPoint)) failures.set(drive.mountPoint, 'still mounted after the eject command')
    }
    if (failures.size > 0) throw new Error(`could not eject ${[...failures].map(([mountPoint, reason]) => `${mountPoint}: ${reason}`).join('; ')}`)
  }

  /** Reads the mount table now (also called by the timer); emits 'change' when the drives differ. */
  async poll (): Promise<void> {
    this.polling ??= this.readDrives().then((drives) => {
      if (JSON.stringify(drives) === JSON.stringify(this.current)) return
      this.current = drives
      this.emit('change', drives)
    }, (error: unknown) => {
      this.emit('warning', `cannot read ${this.mountInfoPath}: ${error instanceof Error ? error.message : String(error)}`)
    }).finally(() => { this.polling = undefined })
    await this.polling
  }

  private async readDrives (): Promise<Drive[]> {
    const mounts = mountsUnder(parseMountInfo(await readFile(this.mountInfoPath, 'utf8')), this.options.mediaRoot)
    return await Promise.all(mounts.map(async (mount) => await this.describe(mount)))
  }

  private async describe (mount: Mount): Promise<Drive> {
    const folder = this.options.publishFolder === undefined ? undefined : await folderOnDrive(mount.mountPoint, this.options.publishFolder)
    return {
      mountPoint: mount.mountPoint,
      name: basename(mount.mountPoint),
      source: mount.source,
      fsType: mount.fsType,
      library: folder ?? mount.mountPoint
    }
  }
}

/**
 * `mountPoint/name` when it is a folder of the drive: a folder, or a symbolic link to one on the
 * drive itself. A link leading off the drive (a stranger's stick pointing "publish" at the box's own
 * files) is no folder of the drive: the drive is then published as a whole, and the link is listed
 * there as refused, for the person to see.
 */
async function folderOnDrive (mountPoint: string, name: string): Promise<string | undefined> {
  const folder = join(mountPoint, name)
  try {
    const [real, realMount] = await Promise.all([realpath(folder), realpath(mountPoint)])
    if (!real.startsWith(realMount.endsWith(sep) ? realMount : realMount + sep)) return undefined
    return (await stat(real)).isDirectory() ? folder : undefined
  } catch {
    return undefined
  }
}
