/**
 * `node dist/scripts/soak.js [--minutes 60] [--markdown FILE] [--no-drive]`: an hour (by default) of
 * mixed load on one `evertorrent serve`, started as the systemd unit starts it, on loopback:
 *
 * - announces over HTTP, UDP and WebSocket, and scrapes, at modest rates (scripts/soak/tracker-load.ts);
 * - 10 aria2c clients downloading the box's items in turn, from peers or from the web seed only,
 *   each download checked by sha256 (downloaders.ts);
 * - every few minutes: a SIGHUP reload with a changed live value, a USB drive (an ext4 image on a loop
 *   device) pulled and plugged back, a file copied slowly into the library, and a hostile burst
 *   (idle sockets, huge WebSocket frames, idle and non-reading peers, UDP garbage, an infohash flood)
 *   (activities.ts, hostile.ts);
 * - every 10 s a sample of the service's RSS, open fds, CPU and event-loop delay (sampler.ts),
 *   printed as a table each minute, with a summary at the end (report.ts).
 *
 * Exit code 1, with the reason, when RSS or fds grow without bound (the rule is in verdict.ts), a
 * sample's RSS exceeds the unit's MemoryMax, the service exits, a download's sha256 differs, a
 * reload is not applied, a slow copy is published before it is complete, or an item that should be
 * published is not seeding at the end. Everything it starts is stopped by PID, and its temp folder,
 * mounts and loop device removed, at the end, on failure and on Ctrl-C.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism, cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { parseTorrent, type Metainfo } from '../appliance/metainfo/metainfo.js'
import { SETTINGS } from '../appliance/config/settings.js'
import { killAllChildren } from '../test/helpers/child-process.js'
import { serviceProcess } from '../test/helpers/serve-process.js'
import { Activities, scheduleFor } from './soak/activities.js'
import { BoxStatus } from './soak/box-status.js'
import { Counters, Findings } from './soak/counters.js'
import { Downloaders } from './soak/downloaders.js'
import { LoopDrive, missingForDrive } from './soak/drive.js'
import { Hostile } from './soak/hostile.js'
import { errorText, sleep } from './soak/pace.js'
import { markdownTable, MinuteTable, rows, sampleLine, summaryLines } from './soak/report.js'
import { Sampler, SETTLE_AFTER_BURST_MS } from './soak/sampler.js'
import { Serve } from './soak/serve.js'
import { TrackerLoad } from './soak/tracker-load.js'
import { effectiveOpenFiles, unitLimits, type OpenFilesLimit, type UnitLimits } from './soak/unit-limits.js'
import { DEFAULT_VERDICT, judgeSamples, warmUpSeconds } from './soak/verdict.js'
import { prepareWorkspace, SETTLE_SECONDS, writeServeConfig, type ExpectedItem, type ServeConfig, type Workspace } from './soak/workspace.js'

const USAGE = `Usage: node dist/scripts/soak.js [options]

Options:
  --minutes N       how long the load runs (default: 60); setup and final checks add about 2 minutes
  --markdown FILE   also write the final table (a row per minute, per 5 minutes from 20 minutes on)
                    and the summary as markdown, e.g. for docs/soak.md
  --no-drive        leave out the USB drive (which needs root, losetup and mkfs.ext4)
  -h, --help        this help`

const CLI = fileURLToPath(new URL('../appliance/cli.js', import.meta.url))
const SERVICE_UNIT = fileURLToPath(new URL('../../config/evertorrent.service', import.meta.url))
/** Open files this process wants: the issue's 20,000 idle sockets and its own work. */
const OWN_NOFILE = 32_768
const FIRST_PUBLISH_MS = 180_000
const FINAL_CHECK_MS = 90_000

interface Options {
  readonly minutes: number
  readonly markdown: string | undefined
  readonly drive: boolean
}

function parseOptions (): Options | undefined {
  const { values } = parseArgs({
    options: {
      minutes: { type: 'string' },
      markdown: { type: 'string' },
      'no-drive': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' }
    }
  })
  if (values.help === true) return undefined
  const minutes = Number(values.minutes ?? '60')
  if (!Number.isFinite(minutes) || minutes < 1) throw new Error(`--minutes expects a number of minutes, at least 1, not "${values.minutes ?? ''}"`)
  return { minutes, markdown: values.markdown, drive: values['no-drive'] !== true }
}

/** Fails in a second, saying what is missing, rather than after writing the content. */
function checkPrerequisites (options: Options): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build first (npx tsc -p .)`)
  for (const [tool, hint] of [['aria2c', 'install it with scripts/install-test-deps.sh'], ['prlimit', 'it comes with util-linux']]) {
    try {
      execFileSync(tool!, ['--version'], { stdio: 'ignore' })
    } catch {
      throw new Error(`${tool!} is missing: ${hint!}`)
    }
  }
  const missing = options.drive ? missingForDrive() : []
  if (missing.length > 0) throw new Error(`the drive needs ${missing.join(', ')}: run as root where they are, or pass --no-drive`)
}

/**
 * Raises this process's open-files limit so the idle-socket burst can reach the issue's 20,000
 * (raising the hard limit needs CAP_SYS_RESOURCE); returns the hard limit it has.
 */
function raiseOwnFileLimit (findings: Findings): number {
  try {
    execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${OWN_NOFILE}:${OWN_NOFILE}`], { stdio: 'ignore' })
  } catch {
    findings.note(`this process's open-file limit could not be raised to ${OWN_NOFILE} (no CAP_SYS_RESOURCE): the idle-socket burst is smaller`)
  }
  const hard = /^Max open files\s+\d+\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1]
  return hard === undefined ? 1024 : Number(hard)
}

function progress (message: string): void {
  process.stderr.write(`soak: ${message}\n`)
}

/** Everything that must be undone, synchronously, in reverse order of setup. */
const undo: Array<() => void> = []

function cleanUp (): void {
  killAllChildren()
  for (const step of undo.splice(0).reverse()) {
    try {
      step()
    } catch (error) {
      progress(`cleaning up: ${errorText(error)}`)
    }
  }
}

async function waitForItems (box: BoxStatus, items: readonly ExpectedItem[], timeoutMs: number): Promise<string[]> {
  const deadline = performance.now() + timeoutMs
  for (;;) {
    await box.refresh().catch(() => {})
    const missing = items.filter((item) => box.item(item.name)?.state !== 'seeding').map((item) => `${item.name} (${box.item(item.name)?.state ?? 'not listed'})`)
    if (missing.length === 0 || performance.now() > deadline) return missing
    await sleep(1000)
  }
}

interface Setup {
  readonly workspace: Workspace
  readonly drive: LoopDrive | undefined
  readonly items: readonly ExpectedItem[]
  readonly config: ServeConfig
  readonly limits: UnitLimits
  readonly openFiles: OpenFilesLimit
}

/** The content, the drive (plugged) and the config file, in a temp folder removed at the end. */
function setUp (options: Options, findings: Findings): Setup {
  const limits = unitLimits(readFileSync(SERVICE_UNIT, 'utf8'))
  const openFiles = effectiveOpenFiles(limits.openFiles, raiseOwnFileLimit(findings))
  if (openFiles.hard < limits.openFiles.hard) findings.note(`the service runs with ${openFiles.hard} open files, not the ${limits.openFiles.hard} it has under systemd: this process may not give more`)
  const work = mkdtempSync(join(tmpdir(), 'evertorrent-soak-'))
  undo.push(() => { rmSync(work, { recursive: true, force: true }) })
  progress(`writing the content in ${work}`)
  const workspace = prepareWorkspace(work)
  const mediaRoot = join(work, 'media')
  let drive: LoopDrive | undefined
  if (options.drive) {
    const created = LoopDrive.create(work, mediaRoot)
    undo.push(() => { created.destroy() })
    created.plug()
    progress(`drive ${created.loop} plugged under ${mediaRoot}`)
    drive = created
  }
  const config: ServeConfig = {
    library: workspace.library,
    stateDir: workspace.stateDir,
    mediaRoot: drive === undefined ? '' : mediaRoot,
    uploadSlots: SETTINGS['seeder.upload_slots'].default()
  }
  writeServeConfig(workspace.configPath, config)
  return { workspace, drive, items: [...workspace.items, ...(drive?.items ?? [])], config, limits, openFiles }
}

async function main (): Promise<number> {
  const options = parseOptions()
  if (options === undefined) {
    process.stdout.write(`${USAGE}\n`)
    return 0
  }
  checkPrerequisites(options)
  const wallStart = performance.now()
  const counters = new Counters()
  const findings = new Findings()
  const { workspace, drive, items, config, limits, openFiles } = setUp(options, findings)

  const serve = await Serve.start(CLI, workspace.configPath, { ...process.env, HOME: workspace.home, XDG_STATE_HOME: join(workspace.home, '.local', 'state') }, openFiles)
  progress(`serve (pid ${serve.pid}) ready: http ${serve.ports.http}, tracker ${serve.ports.tracker}, peers ${serve.ports.peer}`)
  const box = new BoxStatus(serve.ports.http)
  const unpublished = await waitForItems(box, items, FIRST_PUBLISH_MS)
  if (unpublished.length > 0) throw new Error(`not published within ${FIRST_PUBLISH_MS / 1000} s: ${unpublished.join(', ')}\n${serve.describe()}`)
  progress(`${items.length} items published; load for ${options.minutes} min`)

  const runSeconds = options.minutes * 60
  const startedAt = performance.now()
  const hostile = new Hostile({ ports: serve.ports, counters, findings, target: async () => await publishedTorrent(box, serve.ports.http, 'big.bin') })
  undo.push(() => { hostile.destroy() })
  const activities = new Activities({
    serve, config, configPath: workspace.configPath, library: workspace.library, drive, hostile, counters, findings,
    schedule: scheduleFor(runSeconds), runSeconds, startedAt
  })
  const tracker = new TrackerLoad({ ports: serve.ports, counters, findings, published: () => box.seedingInfoHashes() })
  const downloaders = new Downloaders({ httpPort: serve.ports.http, root: workspace.downloads, items, box, counters, findings, drivePulls: () => activities.drivePulls })
  const table = new MinuteTable((text) => process.stdout.write(text))
  const sampler = new Sampler({
    pid: serve.pid,
    httpPort: serve.ports.http,
    box,
    counters,
    hostile,
    drive: () => drive === undefined ? 'none' : drive.isPlugged ? 'in' : 'out',
    startedAt,
    onSample: (sample) => {
      progress(sampleLine(sample, downloaders.active))
      table.add(sample)
    }
  })

  box.start()
  tracker.start()
  downloaders.start()
  activities.start()
  sampler.start()
  const serveExited = new Promise<void>((resolve) => { serve.child.once('exit', () => { resolve() }) })
  await Promise.race([sleep(runSeconds * 1000), serveExited])
  const loadSeconds = (performance.now() - startedAt) / 1000
  const diedDuringLoad = !serve.running
  if (diedDuringLoad) findings.fail(`the service exited after ${loadSeconds.toFixed(0)} s (${JSON.stringify(serve.exit)}):\n${serve.describe()}`)

  progress('load over; stopping it and checking every item')
  await activities.stop()
  await Promise.all([downloaders.stop(), tracker.stop()])
  if (drive !== undefined && !drive.isPlugged) drive.plug()
  if (serve.running) {
    const missing = await waitForItems(box, items, FINAL_CHECK_MS)
    for (const item of missing) findings.fail(`at the end, ${item} instead of seeding (waited ${FINAL_CHECK_MS / 1000} s)`)
    // The last sample, of the box at rest: quiet once the last burst's connections are gone.
    await sleep(SETTLE_AFTER_BURST_MS)
    await sampler.sample()
  }
  await Promise.all([sampler.stop(), box.stop()])
  counters.add('status.unanswered', box.unanswered)
  table.flush()
  const exit = await serve.stop()
  if (!diedDuringLoad && exit.code !== 0) findings.fail(`the service did not stop cleanly on SIGTERM: ${JSON.stringify(exit)}`)

  const holdingEnd = hostile.firstHoldingEnd()
  const settledAt = holdingEnd === undefined ? 0 : (holdingEnd - startedAt) / 1000 + SETTLE_AFTER_BURST_MS / 1000
  const verdict = judgeSamples(sampler.samples, { ...DEFAULT_VERDICT, warmUpSeconds: warmUpSeconds(runSeconds, settledAt), memoryMaxBytes: limits.memoryMaxBytes })
  const unit = serviceProcess()
  const summary = summaryLines({
    command: `node dist/scripts/soak.js ${process.argv.slice(2).join(' ')}`.trim(),
    setup: `evertorrent serve as the unit runs it (${['node', ...unit.nodeFlags].join(' ')}, ${Object.entries(unit.env).map(([name, value]) => `${name}=${value}`).join(', ')}, ` +
      `${openFiles.hard} open files${limits.openFilesFromUnit ? '' : ' (systemd\'s default; the unit sets no LimitNOFILE)'}), ` +
      `published-only tracker, settle ${SETTLE_SECONDS} s; ${items.length} items (${items.map((item) => item.name).join(', ')}); ` +
      `${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} cores, Node ${process.version}`,
    loadSeconds,
    wallSeconds: (performance.now() - wallStart) / 1000,
    samples: sampler.samples,
    verdict,
    memoryMaxBytes: limits.memoryMaxBytes,
    counters: counters.snapshot(),
    failures: [...verdict.failures, ...findings.failures],
    failureCount: verdict.failures.length + findings.failureCount,
    notes: findings.notes,
    noteCount: findings.noteCount,
    logged: serve.problems
  })
  process.stdout.write(`\n${summary.join('\n')}\n`)
  if (options.markdown !== undefined) {
    writeFileSync(options.markdown, `${markdownTable(rows(sampler.samples, options.minutes >= 20 ? 300 : 60))}\n\n${summary.join('\n')}\n`)
    progress(`wrote ${options.markdown}`)
  }
  return verdict.failures.length + findings.failureCount === 0 ? 0 : 1
}

/** The published torrent of the item of that name, as the box serves it; undefined when it is not published. */
async function publishedTorrent (box: BoxStatus, httpPort: number, name: string): Promise<Metainfo | undefined> {
  const infoHash = box.item(name)?.infoHash
  if (infoHash === undefined) return undefined
  const response = await fetch(`http://127.0.0.1:${httpPort}/torrents/${infoHash}.torrent`, { signal: AbortSignal.timeout(5000) }).catch(() => undefined)
  return response?.ok === true ? parseTorrent(new Uint8Array(await response.arrayBuffer())) : undefined
}

process.once('SIGINT', () => {
  progress('interrupted: stopping everything')
  cleanUp()
  process.exit(130)
})
process.once('SIGTERM', () => {
  cleanUp()
  process.exit(143)
})
try {
  process.exitCode = await main()
} catch (error) {
  progress(errorText(error))
  process.exitCode = 1
} finally {
  cleanUp()
}
