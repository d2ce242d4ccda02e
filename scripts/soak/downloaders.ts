/**
 * Ten downloading clients, each an aria2c process after another: an item of the box (rotating over
 * all of them), fetched by `.torrent` from peers (the everseed and the other clients, web seed
 * removed) or from the web seed only (trackers removed), checked file by file against the sha256 of
 * what was written, deleted, and the next one. Each client has its own loopback address, folder and
 * HOME, and a download rate limit, so the load stays modest.
 */
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { encodeTorrent, parseTorrent } from '../../appliance/metainfo/metainfo.js'
import { tempHome, type TempHome } from '../../test/helpers/temp-home.js'
import { exitOf, spawnTracked, stopChild } from '../bench-serve-processes.js'
import { freePort } from '../bench-serve-probes.js'
import type { BoxStatus } from './box-status.js'
import type { Counters, Findings } from './counters.js'
import { errorText, sleep } from './pace.js'
import type { ExpectedItem } from './workspace.js'

const CLIENTS = 10
/** Of the ten, these many download from peers; the others from the web seed only. */
const PEER_CLIENTS = 7
/** Per client: ten of them stay near 20 MB/s together, a load the service carries without a CPU benchmark. */
const RATE_LIMIT = '2M'
/** aria2c gives up after this long without a byte (e.g. while the drive holding the item is out). */
const STALL_SECONDS = 90
const DOWNLOAD_TIMEOUT_MS = 10 * 60_000
const IDLE_MS = 5000

export interface DownloadersOptions {
  readonly httpPort: number
  readonly root: string
  readonly items: readonly ExpectedItem[]
  readonly box: BoxStatus
  readonly counters: Counters
  readonly findings: Findings
  /** How many times the drive has been pulled so far: a drive item's download that saw one may fail. */
  readonly drivePulls: () => number
}

type Mode = 'peers' | 'webseed'

export class Downloaders {
  private readonly abort = new AbortController()
  private readonly homes: TempHome[] = []
  private loops: Array<Promise<void>> = []
  private running = 0

  constructor (private readonly options: DownloadersOptions) {}

  /** aria2c processes running now. */
  get active (): number {
    return this.running
  }

  start (): void {
    this.loops = Array.from({ length: CLIENTS }, async (_, index) => { await this.client(index) })
  }

  /** Stops every aria2c (a download cut short here is not counted) and waits for the clients to end. */
  async stop (): Promise<void> {
    this.abort.abort()
    await Promise.all(this.loops)
    this.destroy()
  }

  /** Removes the clients' homes; synchronous, for the way out of a signal handler too. */
  destroy (): void {
    for (const home of this.homes.splice(0)) home.remove()
  }

  private async client (index: number): Promise<void> {
    const { signal } = this.abort
    const mode: Mode = index < PEER_CLIENTS ? 'peers' : 'webseed'
    const address = `127.0.0.${10 + index}`
    const home = tempHome()
    this.homes.push(home)
    const folder = join(this.options.root, `client-${index}`)
    for (let round = 0; !signal.aborted; round++) {
      const item = this.pick(index + round)
      if (item === undefined) {
        await sleep(IDLE_MS, signal)
        continue
      }
      try {
        await this.download(item, mode, address, folder, home.env)
      } catch (error) {
        this.options.counters.add('download.failed')
        this.options.findings.note(`client ${index} (${mode}), ${item.expected.name}: ${errorText(error)}`)
      }
      await rm(folder, { recursive: true, force: true })
    }
  }

  /** The item at `turn` in the rotation, or the next one that is seeding now. */
  private pick (turn: number): { expected: ExpectedItem, infoHash: string } | undefined {
    const { items, box } = this.options
    for (let step = 0; step < items.length; step++) {
      const expected = items[(turn + step) % items.length]!
      const state = box.item(expected.name)
      if (state?.state === 'seeding' && state.infoHash !== undefined) return { expected, infoHash: state.infoHash }
    }
    return undefined
  }

  private async download (item: { expected: ExpectedItem, infoHash: string }, mode: Mode, address: string, folder: string, env: NodeJS.ProcessEnv): Promise<void> {
    const { counters, findings } = this.options
    const response = await fetch(`http://127.0.0.1:${this.options.httpPort}/torrents/${item.infoHash}.torrent`, { signal: AbortSignal.timeout(10_000) })
    // Unpublished since the last look (the drive was pulled): pick again after a while.
    if (response.status === 404) {
      await sleep(IDLE_MS, this.abort.signal)
      return
    }
    if (!response.ok) throw new Error(`.torrent: HTTP ${response.status}`)
    const metainfo = parseTorrent(new Uint8Array(await response.arrayBuffer()))
    const torrent = join(folder, 'item.torrent')
    const data = join(folder, 'data')
    await mkdir(data, { recursive: true })
    await writeFile(torrent, encodeTorrent(mode === 'peers' ? { ...metainfo, urlList: [] } : { ...metainfo, announceList: [] }))
    const pullsBefore = this.options.drivePulls()
    const child = spawnTracked('aria2c', await aria2Args(torrent, data, address), { env })
    let output = ''
    const keep = (text: string): void => { output = (output + text).slice(-1500) }
    child.stdout!.setEncoding('utf8').on('data', keep)
    child.stderr!.setEncoding('utf8').on('data', keep)
    const stop = (): void => { void stopChild(child, 2000) }
    this.abort.signal.addEventListener('abort', stop)
    const timer = setTimeout(stop, DOWNLOAD_TIMEOUT_MS)
    this.running++
    const exit = await exitOf(child).finally(() => { this.running-- })
    clearTimeout(timer)
    this.abort.signal.removeEventListener('abort', stop)
    if (this.abort.signal.aborted) return
    if (exit.code !== 0) {
      const excused = item.expected.onDrive && this.options.drivePulls() !== pullsBefore
      counters.add(excused ? 'download.interrupted' : 'download.failed')
      if (!excused) findings.note(`aria2c (${mode}) for ${item.expected.name} exited with ${exit.code ?? exit.signal}: ${output.trim().split('\n').slice(-3).join(' | ')}`)
      return
    }
    for (const [relative, expected] of item.expected.files) {
      const actual = await sha256Of(join(data, relative)).catch((error: unknown) => `unreadable (${errorText(error)})`)
      if (actual !== expected) {
        counters.add('download.mismatch')
        findings.fail(`a download's sha256 differs: ${relative} from ${mode === 'peers' ? 'peers' : 'the web seed'} (${actual}, expected ${expected})`)
        return
      }
    }
    counters.add('download.done')
    counters.add(`download.done.${mode}`)
    counters.add('download.bytes', item.expected.bytes)
  }
}

async function aria2Args (torrent: string, dir: string, address: string): Promise<string[]> {
  return [
    '--no-conf=true',
    `--dir=${dir}`,
    `--torrent-file=${torrent}`,
    `--interface=${address}`,
    `--listen-port=${await freePort()}`,
    `--max-download-limit=${RATE_LIMIT}`,
    '--enable-dht=false',
    '--enable-dht6=false',
    '--bt-enable-lpd=false',
    '--enable-peer-exchange=false',
    '--disable-ipv6=true',
    '--seed-time=0',
    `--bt-stop-timeout=${STALL_SECONDS}`,
    `--stop-with-process=${process.pid}`,
    '--bt-save-metadata=false',
    '--file-allocation=none',
    '--auto-file-renaming=false',
    '--allow-overwrite=true',
    '--summary-interval=0',
    '--show-console-readout=false',
    '--enable-color=false',
    '--console-log-level=warn'
  ]
}

async function sha256Of (path: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) hash.update(chunk as Buffer)
  return hash.digest('hex')
}
