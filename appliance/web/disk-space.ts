import { statfs as fsStatfs } from 'node:fs/promises'
import type { DiskSpaceDoc } from './status-document.js'

/** What `fs.promises.statfs` returns that we read. */
export interface StatFs {
  readonly bsize: number
  readonly blocks: number
  readonly bfree: number
  readonly bavail: number
}

export type StatFsFunction = (path: string) => Promise<StatFs>

/**
 * Free and used space of the library folders' filesystems, refreshed on demand and kept until the
 * next refresh. At most one `statfs` per folder is in flight: on a drive that hangs, the calls would
 * otherwise pile up and take every thread of libuv's pool, which all file IO of the process shares.
 */
export class DiskSpace {
  private readonly known = new Map<string, DiskSpaceDoc>()
  private readonly inFlight = new Set<string>()

  constructor (private readonly statfs: StatFsFunction = fsStatfs) {}

  get (path: string): DiskSpaceDoc | undefined {
    return this.known.get(path)
  }

  /** Asks again for every folder in `paths`, forgets others; resolves true if any figure changed. */
  async refresh (paths: readonly string[]): Promise<boolean> {
    for (const path of this.known.keys()) {
      if (!paths.includes(path)) this.known.delete(path)
    }
    const changes = await Promise.all(paths.map(async (path) => await this.refreshOne(path)))
    return changes.includes(true)
  }

  private async refreshOne (path: string): Promise<boolean> {
    if (this.inFlight.has(path)) return false
    this.inFlight.add(path)
    try {
      const stats = await this.statfs(path)
      // Free space as a non-root writer sees it (bavail); used is what is taken from the total (bfree).
      const space = { totalBytes: stats.blocks * stats.bsize, freeBytes: stats.bavail * stats.bsize, usedBytes: (stats.blocks - stats.bfree) * stats.bsize }
      const before = this.known.get(path)
      this.known.set(path, space)
      return before === undefined || before.freeBytes !== space.freeBytes || before.totalBytes !== space.totalBytes || before.usedBytes !== space.usedBytes
    } catch {
      // A folder that is gone or failing has no space to show; its state says why.
      return this.known.delete(path)
    } finally {
      this.inFlight.delete(path)
    }
  }
}
