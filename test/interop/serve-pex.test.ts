import test, { type ExecutionContext } from 'ava'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { ChildProcess } from 'node:child_process'
import { spawnTracked, stopChild } from '../helpers/child-process.js'
import { sha256, writeTree } from '../helpers/content.js'
import { SYSTEM_PYTHON } from '../helpers/libtorrent.js'
import { LineLog } from '../helpers/line-log.js'
import { sourcePath } from '../helpers/repo.js'
import { ServeProcess } from '../helpers/serve-process.js'
import { tempDir } from '../helpers/temp-dir.js'

// Two libtorrent leechers, each a process of its own on a loopback address of its own, are told of the
// everseed only (no trackers, web seeds, DHT or LSD). The everseed uploads slowly, so the two meet only
// through its peer exchange (BEP 11) and trade pieces with each other.

const SCRIPT = sourcePath('test/helpers/lt_pex_leecher.py')
const CONTENT_BYTES = 4 * 1024 * 1024
/** The everseed's whole upload: 16 s for the content once, 32 s for both leechers without each other. */
const UPLOAD_RATE = 256 * 1024
const TIMEOUT_SECONDS = 150

interface SeenPeer {
  readonly ip: string
  readonly ports: readonly number[]
  readonly sources: readonly string[]
  readonly total_download: number
}

interface LeecherLine {
  readonly event: 'done' | 'peers'
  readonly ok?: boolean
  readonly seconds?: number
  readonly payload_bytes?: number
  readonly peers?: readonly SeenPeer[]
}

class Leecher {
  readonly log: LineLog<LeecherLine>
  private readonly stderr: string[] = []

  constructor (readonly child: ChildProcess, readonly ip: string) {
    this.log = new LineLog(child.stdout!, (line) => { try { return JSON.parse(line) as LeecherLine } catch { return undefined } }, () => `leecher ${ip}: ${this.stderr.join('')}`)
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => this.stderr.push(chunk))
  }

  static start (t: ExecutionContext, torrent: string, saveDir: string, ip: string, everseed: string): Leecher {
    const child = spawnTracked(SYSTEM_PYTHON, [SCRIPT, torrent, saveDir, '--bind', ip, '--peer', everseed, '--timeout', String(TIMEOUT_SECONDS)], { stdio: ['pipe', 'pipe', 'pipe'] })
    t.teardown(async () => { await stopChild(child) })
    return new Leecher(child, ip)
  }

  async done (): Promise<LeecherLine> {
    return (await this.log.waitFor((line) => line.event === 'done', (TIMEOUT_SECONDS + 10) * 1000, `leecher ${this.ip} done`)).value
  }

  /** Stops it seeding; resolves with the peers it saw besides the everseed. */
  async peers (): Promise<readonly SeenPeer[]> {
    this.child.stdin!.end()
    return (await this.log.waitFor((line) => line.event === 'peers', 30_000, `leecher ${this.ip} peers`)).value.peers!
  }
}

test('two libtorrent leechers that know only the everseed learn of each other by PEX and download from each other', async (t) => {
  t.timeout((TIMEOUT_SECONDS + 60) * 1000)
  if (!existsSync(SYSTEM_PYTHON)) t.fail(`${SYSTEM_PYTHON} is missing (Debian's python3 with python3-libtorrent)`)
  const root = tempDir(t, 'evertorrent-pex-')
  const written = writeTree(join(root, 'library'), { 'shared.bin': CONTENT_BYTES })
  const serve = await ServeProcess.start(t, {
    libraries: [join(root, 'library')],
    stateDir: join(root, 'state'),
    settings: { 'seeder.upload_rate_limit': UPLOAD_RATE }
  })
  const published = await serve.waitFor((line) => line.msg === 'published')
  const everseed = `127.0.0.1:${serve.peerPort}`
  const leechers = ['127.0.0.2', '127.0.0.3'].map((ip) => Leecher.start(t, published.torrent!, join(root, ip), ip, everseed))

  const done = await Promise.all(leechers.map(async (leecher) => await leecher.done()))
  const seen = await Promise.all(leechers.map(async (leecher) => await leecher.peers()))
  for (const [index, leecher] of leechers.entries()) {
    const other = leechers[1 - index]!
    t.log(`${leecher.ip}: done in ${done[index]!.seconds!.toFixed(1)} s, saw ${JSON.stringify(seen[index])}`)
    t.true(done[index]!.ok, `${leecher.ip} completed the download`)
    t.is(sha256(readFileSync(join(root, leecher.ip, 'shared.bin'))), sha256(written.get('shared.bin')!), `${leecher.ip} has the published bytes`)
    const peer = seen[index]!.find((candidate) => candidate.ip === other.ip)
    t.truthy(peer, `${leecher.ip} met ${other.ip}`)
    t.true(peer?.sources.includes('pex'), `${leecher.ip} knows ${other.ip} from PEX (sources: ${peer?.sources.join(', ') ?? 'none'})`)
    t.true((peer?.total_download ?? 0) > 0, `${leecher.ip} received payload from ${other.ip} (${peer?.total_download ?? 0} bytes)`)
  }
  t.is(await serve.stop(), 0)
})
