import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, readFile, rmdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import type { ExecutionContext } from 'ava'
import { run } from './run.js'

export interface MemoryCgroupOptions {
  /** The memory cap, as the unit's `MemoryMax=` (swap is capped to nothing besides). */
  readonly maxBytes: number
  /** The open-files limit (soft and hard), as the unit's `LimitNOFILE=`; set with prlimit. */
  readonly openFiles?: number
}

export interface MemoryCgroupStats {
  /** Processes the kernel's OOM killer killed in the cgroup. */
  readonly oomKills: number
  /** Times a charge hit the cap (the kernel then reclaimed, or killed). */
  readonly limitHits: number
  /** The most memory charged to the cgroup, where the kernel reports it. */
  readonly peakBytes: number | undefined
}

export interface MemoryCgroup {
  /** How the cap is applied, for the test's log. */
  readonly how: string
  /** The command line that runs `argv` in the cgroup (and under the open-files limit); it ends by exec-ing `argv`. */
  wrap: (argv: readonly string[]) => string[]
  /** The cgroup's counters; read them while its process runs (a systemd scope goes away with it). */
  stats: () => Promise<MemoryCgroupStats>
}

/**
 * A memory cgroup for a child process, the way the unit's `MemoryMax=` would cap it under systemd:
 * `systemd-run --scope` where systemd runs, else a cgroup of its own in cgroup v2 (`memory.max`), else
 * in cgroup v1 (`memory.limit_in_bytes`). Removed when the test ends (after the processes in it have
 * stopped: register it before starting them). Fails, naming what is missing, when none can be made.
 */
export async function memoryCgroup (t: ExecutionContext, options: MemoryCgroupOptions): Promise<MemoryCgroup> {
  const reasons: string[] = []
  const name = `evertorrent-test-${process.pid}-${randomBytes(4).toString('hex')}`
  const limitFiles = (argv: readonly string[]): string[] => options.openFiles === undefined ? [...argv] : ['prlimit', `--nofile=${options.openFiles}:${options.openFiles}`, '--', ...argv]
  for (const attempt of [systemdScope, cgroupV2, cgroupV1]) {
    const made = await attempt(t, name, options.maxBytes, reasons)
    if (made !== undefined) return { ...made, wrap: (argv) => made.wrap(limitFiles(argv)) }
  }
  throw new Error(`no way to cap a process's memory on this machine: ${reasons.join('; ')}`)
}

type Attempt = (t: ExecutionContext, name: string, maxBytes: number, reasons: string[]) => Promise<MemoryCgroup | undefined>

const systemdScope: Attempt = async (t, name, maxBytes, reasons) => {
  // sd_booted(3): systemd is the init system when this folder exists.
  if (!existsSync('/run/systemd/system')) {
    reasons.push('systemd is not running as init (no /run/systemd/system), so systemd-run --scope cannot be used')
    return undefined
  }
  const unit = `${name}.scope`
  const mount = mountOf('cgroup2', await readFile('/proc/self/mountinfo', 'utf8'))
  t.teardown(async () => { await run('systemctl', ['stop', unit]) })
  return {
    how: `systemd-run --scope -p MemoryMax=${maxBytes} (${unit})`,
    wrap: (argv) => ['systemd-run', '--scope', '--quiet', `--unit=${unit}`, '-p', `MemoryMax=${maxBytes}`, '-p', 'MemorySwapMax=0', '--', ...argv],
    stats: async () => {
      const group = (await run('systemctl', ['show', '--property=ControlGroup', '--value', unit])).stdout.trim()
      if (mount === undefined || group === '') throw new Error(`the scope ${unit} has no cgroup (any more)`)
      return await v2Stats(join(mount.path, group))
    }
  }
}

const cgroupV2: Attempt = async (t, name, maxBytes, reasons) => {
  const mount = mountOf('cgroup2', await readFile('/proc/self/mountinfo', 'utf8'))
  if (mount === undefined) {
    reasons.push('no cgroup v2 hierarchy is mounted')
    return undefined
  }
  const controllers = await readFile(join(mount.path, 'cgroup.controllers'), 'utf8').catch(() => '')
  if (!controllers.split(/\s+/).includes('memory')) {
    reasons.push(`the cgroup v2 hierarchy at ${mount.path} has no memory controller (cgroup.controllers: "${controllers.trim()}")`)
    return undefined
  }
  const dir = join(mount.path, name)
  try {
    // The root cgroup may hand the memory controller to its children even with processes of its own.
    await writeFile(join(mount.path, 'cgroup.subtree_control'), '+memory')
    await mkdir(dir)
    t.teardown(async () => { await removeCgroup(dir, mount.path) })
    await writeFile(join(dir, 'memory.max'), String(maxBytes))
    await writeFile(join(dir, 'memory.swap.max'), '0').catch(() => {}) // absent without swap accounting
  } catch (error) {
    reasons.push(`cannot make a cgroup v2 memory cgroup at ${dir}: ${(error as Error).message} (this needs root)`)
    return undefined
  }
  return { how: `cgroup v2 ${dir} memory.max=${maxBytes}`, wrap: (argv) => enter(dir, argv), stats: async () => await v2Stats(dir) }
}

const cgroupV1: Attempt = async (t, name, maxBytes, reasons) => {
  const mount = mountOf('cgroup', await readFile('/proc/self/mountinfo', 'utf8'), 'memory')
  if (mount === undefined) {
    reasons.push('no cgroup v1 memory controller is mounted')
    return undefined
  }
  // Under this process's own memory cgroup, so that the new one sits where this test is allowed to be.
  const own = /^\d+:[^:]*\bmemory\b[^:]*:(.*)$/m.exec(await readFile('/proc/self/cgroup', 'utf8'))?.[1] ?? '/'
  const parent = join(mount.path, own.startsWith(mount.root) ? own.slice(mount.root.length) : own)
  const dir = join(parent, name)
  try {
    await mkdir(dir)
    t.teardown(async () => { await removeCgroup(dir, parent) })
    await writeFile(join(dir, 'memory.limit_in_bytes'), String(maxBytes))
    // With swap accounting, memory+swap gets the same cap: nothing may be swapped out instead.
    if (existsSync(join(dir, 'memory.memsw.limit_in_bytes'))) await writeFile(join(dir, 'memory.memsw.limit_in_bytes'), String(maxBytes))
  } catch (error) {
    reasons.push(`cannot make a cgroup v1 memory cgroup at ${dir}: ${(error as Error).message} (this needs root)`)
    return undefined
  }
  return {
    how: `cgroup v1 ${dir} memory.limit_in_bytes=${maxBytes}`,
    wrap: (argv) => enter(dir, argv),
    stats: async () => {
      const oomControl = await readFile(join(dir, 'memory.oom_control'), 'utf8')
      const oomKill = /^oom_kill (\d+)$/m.exec(oomControl)?.[1]
      if (oomKill === undefined) throw new Error(`${dir}/memory.oom_control has no oom_kill count (Linux >= 4.13 has): ${oomControl}`)
      return {
        oomKills: Number(oomKill),
        limitHits: Number(await readFile(join(dir, 'memory.failcnt'), 'utf8')),
        peakBytes: Number(await readFile(join(dir, 'memory.max_usage_in_bytes'), 'utf8'))
      }
    }
  }
}

/** A shell that moves itself into the cgroup, then becomes `argv`. */
function enter (dir: string, argv: readonly string[]): string[] {
  return ['/bin/sh', '-c', 'echo $$ > "$0" && exec "$@"', join(dir, 'cgroup.procs'), ...argv]
}

async function v2Stats (dir: string): Promise<MemoryCgroupStats> {
  const events = await readFile(join(dir, 'memory.events'), 'utf8')
  const count = (key: string): number => Number(new RegExp(`^${key} (\\d+)$`, 'm').exec(events)?.[1] ?? 0)
  const peak = await readFile(join(dir, 'memory.peak'), 'utf8').catch(() => undefined) // Linux >= 5.19
  return { oomKills: count('oom_kill'), limitHits: count('max'), peakBytes: peak === undefined ? undefined : Number(peak) }
}

/** Moves any process left over to `parent` (a test that failed half-way), then removes the cgroup. */
async function removeCgroup (dir: string, parent: string): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const left = (await readFile(join(dir, 'cgroup.procs'), 'utf8').catch(() => '')).split('\n').filter((pid) => pid !== '')
    for (const pid of left) await writeFile(join(parent, 'cgroup.procs'), pid).catch(() => {})
    try {
      await rmdir(dir)
      return
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return
      await sleep(100) // EBUSY: a process is still on its way out
    }
  }
  await rmdir(dir)
}

interface Mount {
  readonly path: string
  /** The cgroup path the mount shows as its root (`/` unless in a container). */
  readonly root: string
}

/** The mount of a cgroup filesystem (`cgroup2`, or `cgroup` with `option` among its super options), from /proc/self/mountinfo. */
function mountOf (fsType: 'cgroup' | 'cgroup2', mountinfo: string, option?: string): Mount | undefined {
  for (const line of mountinfo.split('\n')) {
    const [before, after] = line.split(' - ') as [string, string | undefined]
    if (after === undefined) continue
    const [type, , superOptions = ''] = after.split(' ')
    if (type !== fsType || (option !== undefined && !superOptions.split(',').includes(option))) continue
    const fields = before.split(' ')
    return { root: fields[3]!, path: fields[4]! }
  }
  return undefined
}
