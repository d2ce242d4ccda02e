/**
 * Ten downloading clients, each an aria2c process after another: an item of the box (rotating over
 * all of them), fetched by `.torrent` from peers (the everseed and the other clients, web seed
 * removed) or from the web seed only (trackers removed), checked file by file against the sha256 of
 * what was written, deleted, and the next one. Each client has its own loopback address and folder,
 * each aria2c its own HOME, and a download rate limit, so the load stays modest.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { encodeTorrent, parseTorrent } from '../../appliance/metainfo/metainfo.js'
import { startAria2 } from '../../test/interop/clients/aria2.js'
import { sha256File } from '../../test/interop/clients/sha256-tree.js'
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
  }

  private async client (index: number): Promise<void> {
    const { signal } = this.abort
    const mode: Mode = index < PEER_CLIENTS ? 'peers' : 'webseed'
    const address = `127.0.0.${10 + index}`
    const folder = join(this.options.root, `client-${index}`)
    for (let round = 0; !signal.aborted; round++) {
      const item = this.pick(index + round)
      if (item === undefined) {
        await sleep(IDLE_MS, signal)
        continue
      }
      try {
        await this.download(item, mode, address, folder)
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

  private async download (item: { expected: ExpectedItem, infoHash: string }, mode: Mode, address: string, folder: string): Promise<void> {
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
    const child = await startAria2({
      dir: data,
      address,
      args: [`--torrent-file=${torrent}`, `--max-download-limit=${RATE_LIMIT}`, `--bt-stop-timeout=${STALL_SECONDS}`]
    })
    const stop = (): void => { void child.stop(2000) }
    this.abort.signal.addEventListener('abort', stop)
    const timer = setTimeout(stop, DOWNLOAD_TIMEOUT_MS)
    this.running++
    const exit = await child.exited.finally(() => { this.running-- })
    clearTimeout(timer)
    this.abort.signal.removeEventListener('abort', stop)
    if (this.abort.signal.aborted) return
    if (exit.code !== 0) {
      const excused = item.expected.onDrive && this.options.drivePulls() !== pullsBefore
      counters.add(excused ? 'download.interrupted' : 'download.failed')
      if (!excused) findings.note(`aria2c (${mode}) for ${item.expected.name} exited with ${exit.code ?? exit.signal}: ${child.logTail().trim().split('\n').slice(-3).join(' | ')}`)
      return
    }
    for (const [relative, expected] of item.expected.files) {
      const actual = await sha256File(join(data, relative)).catch((error: unknown) => `unreadable (${errorText(error)})`)
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
