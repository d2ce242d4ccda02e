/**
 * What happens to the box every few minutes, each on its own schedule: a config reload (SIGHUP with
 * a changed live value, checked in the log), the drive pulled and plugged back, a file copied
 * slowly into the library (published once, at the end, then deleted), and the hostile bursts in turn.
 */
import { open, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { pseudoRandomBytes } from '../../test/helpers/content.js'
import type { LogLine } from '../../test/helpers/serve-process.js'
import type { Counters, Findings } from './counters.js'
import { DRIVE_LABEL, type LoopDrive } from './drive.js'
import { BURSTS, type Hostile } from './hostile.js'
import { errorText, sleep } from './pace.js'
import type { Serve } from './serve.js'
import { SETTLE_SECONDS, writeServeConfig, type ServeConfig } from './workspace.js'

export interface Schedule {
  /** Seconds from the load's start to the first run, and between runs. */
  readonly reload: { readonly first: number, readonly period: number }
  readonly drive: { readonly first: number, readonly period: number, readonly outSeconds: number }
  readonly slowCopy: { readonly first: number, readonly period: number }
  /** Bursts follow one another with this pause between them. */
  readonly hostile: { readonly first: number, readonly pause: number }
  /** Nothing new starts in the last this many seconds, so the run ends on a box at rest. */
  readonly quietEnd: number
}

/**
 * The nominal rhythm of the hour (reload every 3 min, drive every 4, slow copy every 5, a burst
 * every 2), compressed for short runs so that a few minutes still see each of them at least once.
 */
export function scheduleFor (runSeconds: number): Schedule {
  const quietEnd = Math.max(30, runSeconds * 0.05)
  const busy = runSeconds - quietEnd
  return {
    reload: { first: Math.min(60, runSeconds * 0.15), period: Math.min(180, busy / 3) },
    drive: { first: Math.min(90, runSeconds * 0.2), period: Math.min(240, busy / 2), outSeconds: 20 },
    slowCopy: { first: Math.min(45, runSeconds * 0.1), period: Math.min(300, busy / 2) },
    hostile: { first: Math.min(30, runSeconds * 0.1), pause: Math.min(90, Math.max(5, runSeconds / 40)) },
    quietEnd
  }
}

export interface ActivityOptions {
  readonly serve: Serve
  readonly config: ServeConfig
  readonly configPath: string
  readonly library: string
  readonly drive: LoopDrive | undefined
  readonly hostile: Hostile
  readonly counters: Counters
  readonly findings: Findings
  readonly schedule: Schedule
  readonly runSeconds: number
  /** performance.now() when the load started. */
  readonly startedAt: number
}

export class Activities {
  private readonly abort = new AbortController()
  private loops: Array<Promise<void>> = []
  private uploadSlots: number
  private drivePullCount = 0

  constructor (private readonly options: ActivityOptions) {
    this.uploadSlots = options.config.uploadSlots
  }

  get drivePulls (): number {
    return this.drivePullCount
  }

  start (): void {
    const { schedule, drive } = this.options
    let burst = 0
    this.loops = [
      this.every(schedule.reload.first, schedule.reload.period, async () => { await this.reload() }),
      this.every(schedule.slowCopy.first, schedule.slowCopy.period, async () => { await this.slowCopy() }),
      // A burst's pause counts from its end: bursts never overlap.
      this.every(schedule.hostile.first, 0, async () => {
        await this.options.hostile.run(BURSTS[burst++ % BURSTS.length]!, this.abort.signal)
        await sleep(schedule.hostile.pause * 1000, this.abort.signal)
      }),
      ...(drive === undefined ? [] : [this.every(schedule.drive.first, schedule.drive.period, async () => { await this.driveCycle(drive) })])
    ]
  }

  /** Stops starting anything and cuts short what runs (a pulled drive is plugged back by the caller). */
  async stop (): Promise<void> {
    this.abort.abort()
    await Promise.all(this.loops)
  }

  /**
   * Runs `task` at `first` seconds, then `period` seconds after each start (or right after the
   * previous run, if that took longer), as long as it would start before the quiet end.
   */
  private async every (first: number, period: number, task: () => Promise<void>): Promise<void> {
    const { signal } = this.abort
    const { startedAt, runSeconds, schedule, findings } = this.options
    const elapsed = (): number => (performance.now() - startedAt) / 1000
    let next = first
    for (;;) {
      await sleep((next - elapsed()) * 1000, signal)
      if (signal.aborted || elapsed() > runSeconds - schedule.quietEnd) return
      const started = elapsed()
      try {
        await task()
      } catch (error) {
        if (!signal.aborted) findings.note(`activity failed: ${errorText(error)}`)
      }
      next = started + period
    }
  }

  /** Rewrites the config with another `seeder.upload_slots` and sends SIGHUP; the log must say it was applied. */
  private async reload (): Promise<void> {
    const { serve, counters, findings, configPath, config } = this.options
    this.uploadSlots = this.uploadSlots === config.uploadSlots ? config.uploadSlots + 4 : config.uploadSlots
    writeServeConfig(configPath, { ...config, uploadSlots: this.uploadSlots })
    const reloaded = serve.waitFor((line) => line.msg === 'config reloaded' || line.msg === 'config not reloaded: the running config stays', 15_000, 'a reload line')
    serve.reload()
    counters.add('reload.sent')
    try {
      const line = await reloaded
      if (line.msg === 'config reloaded' && (line.applied ?? '').split(' ').includes('seeder.upload_slots')) {
        counters.add('reload.applied')
      } else {
        findings.fail(`reload to upload_slots=${this.uploadSlots} not applied: ${JSON.stringify(line)}`)
      }
    } catch (error) {
      findings.fail(`reload: ${errorText(error)}`)
    }
  }

  /** Pulled, left out a while, plugged back: its items go offline and must come back under the same infohashes, without hashing again. */
  private async driveCycle (drive: LoopDrive): Promise<void> {
    const { serve, counters, findings, schedule } = this.options
    const gone = serve.waitFor((line) => line.msg === 'drives changed' && !(line.drives ?? '').includes(DRIVE_LABEL), 15_000, 'the drive\'s removal')
    drive.pull()
    this.drivePullCount++
    counters.add('drive.pulls')
    await gone.catch((error: unknown) => { findings.note(`drive pulled: ${errorText(error)}`) })
    await sleep(schedule.drive.outSeconds * 1000, this.abort.signal)
    // Cut short: the caller plugs it back and checks every item.
    if (this.abort.signal.aborted) return
    const back = this.publishedLines(drive.items.map((item) => item.name), 60_000)
    drive.plug()
    counters.add('drive.replugs')
    const lines = await back
    counters.add('drive.items-back', lines.length)
    const rehashed = lines.filter((line) => line.resumed !== 'true')
    if (lines.length < drive.items.length) findings.note(`drive replugged: ${lines.length} of ${drive.items.length} items published again within 60 s`)
    if (rehashed.length > 0) findings.note(`drive replugged: ${rehashed.map((line) => line.name).join(', ')} hashed again instead of resumed`)
  }

  /** The `published` lines of these names from now on, until all came or `timeoutMs` passed. */
  private async publishedLines (names: readonly string[], timeoutMs: number): Promise<LogLine[]> {
    const { serve } = this.options
    const lines: LogLine[] = []
    return await new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer)
        serve.off('line', onLine)
        resolve(lines)
      }
      const onLine = (line: LogLine): void => {
        if (line.msg !== 'published' || !names.includes(line.name ?? '')) return
        lines.push(line)
        if (lines.length === names.length) done()
      }
      const timer = setTimeout(done, timeoutMs)
      serve.on('line', onLine)
    })
  }

  /**
   * 8 MiB written into the library in 16 chunks a second apart: it must be published once, after the
   * last chunk, at its full size (the settle rule); then it is deleted and must be unpublished.
   */
  private async slowCopy (): Promise<void> {
    const { serve, counters, findings, library } = this.options
    const { signal } = this.abort
    const name = `slow-copy-${counters.get('slow-copy.started') + 1}.bin`
    const path = join(library, name)
    const chunks = 16
    const chunkBytes = 512 * 1024
    const published: Array<{ line: LogLine, afterCopy: boolean }> = []
    let copied = false
    const onLine = (line: LogLine): void => {
      if (line.msg === 'published' && line.name === name) published.push({ line, afterCopy: copied })
    }
    serve.on('line', onLine)
    counters.add('slow-copy.started')
    try {
      const file = await open(path, 'w')
      try {
        for (let chunk = 0; chunk < chunks && !signal.aborted; chunk++) {
          await file.write(pseudoRandomBytes(`${name}/${chunk}`, chunkBytes))
          await sleep(1000, signal)
        }
      } finally {
        await file.close()
      }
      if (signal.aborted) return
      copied = true
      const deadline = performance.now() + (SETTLE_SECONDS + 30) * 1000
      while (!published.some((entry) => entry.afterCopy) && performance.now() < deadline && !signal.aborted) await sleep(250, signal)
      if (signal.aborted) return
      this.judgeSlowCopy(name, chunks * chunkBytes, published)
      await sleep(10_000, signal)
    } finally {
      serve.off('line', onLine)
      const unpublished = published.length === 0 || signal.aborted
        ? undefined
        : serve.waitFor((line) => line.msg === 'unpublished' && (line.path ?? '').endsWith(name), 30_000, `${name} unpublished`)
      await rm(path, { force: true })
      await unpublished?.then(() => { counters.add('slow-copy.unpublished') }, () => { findings.note(`${name} deleted but not unpublished within 30 s`) })
    }
  }

  private judgeSlowCopy (name: string, bytes: number, published: ReadonlyArray<{ line: LogLine, afterCopy: boolean }>): void {
    const { counters, findings } = this.options
    const early = published.filter((entry) => !entry.afterCopy)
    if (early.length > 0) {
      counters.add('slow-copy.published-early')
      findings.fail(`${name} was published ${early.length} time(s) while still being copied (first at ${early[0]!.line.size} of ${bytes} bytes)`)
    }
    if (published.length === 0) {
      counters.add('slow-copy.never-published')
      findings.fail(`${name} was not published within ${SETTLE_SECONDS + 30} s after its copy ended`)
      return
    }
    const last = published.at(-1)!
    if (Number(last.line.size) !== bytes) findings.fail(`${name} was published at ${last.line.size} bytes, not its full ${bytes}`)
    else if (early.length === 0 && published.length === 1) counters.add('slow-copy.published-once')
  }
}
