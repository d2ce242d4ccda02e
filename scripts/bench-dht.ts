/**
 * `node dist/scripts/bench-dht.js`: the memory the DHT adds to `evertorrent serve` with 1,000
 * published items (small files), in a DHT of the script's own on loopback: a bootstrap node on
 * 127.0.0.3 and a few hundred bittorrent-dht nodes on 127.0.1.x/127.0.2.x. serve runs as the systemd
 * unit runs it (its node flags and environment). Three runs on one state folder: a first publish
 * (hashing, not measured), then DHT off and DHT on, each a restart that resumes the 1,000 items. RSS is
 * read once every announce has landed and the process has settled. Budget: 15 MB added.
 *
 * Usage: node dist/scripts/bench-dht.js [--items N] [--nodes N] [--settle SECONDS]
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import DHT from 'bittorrent-dht'
import { pseudoRandomStream } from '../test/helpers/content.js'
import { killAllChildren } from '../test/helpers/child-process.js'
import { memoryOf } from '../test/helpers/proc.js'
import { ServeProcess } from '../test/helpers/serve-process.js'

const MB = 1e6
const BUDGET_MB = 15

interface Settings {
  readonly items: number
  readonly nodes: number
  readonly settleSeconds: number
}

interface Run {
  readonly dht: boolean
  readonly rssBytes: number
  readonly peakBytes: number
  /** From spawn to the last infohash announced somewhere (DHT on only). */
  readonly announcedAllMs?: number
  /** Nodes in serve's routing table at stop (from dht.json). */
  readonly tableNodes?: number
}

function progress (message: string): void {
  process.stderr.write(`bench-dht: ${message}\n`)
}

async function sleep (ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms))
}

/** A bootstrap node and `count` nodes joined through it; every announce any of them receives is recorded. */
async function startOwnDht (count: number, announced: Set<string>): Promise<{ bootstrap: string, close: () => Promise<void> }> {
  const nodes: DHT[] = []
  /** Resolves once the node has joined (at once for the bootstrap node, which joins nothing). */
  const start = async (host: string, bootstrap: string[]): Promise<DHT> => {
    const dht = new DHT({ bootstrap: bootstrap.length === 0 ? false : bootstrap, host: false })
    dht.on('announce', (_peer: unknown, infoHash: Buffer) => announced.add(infoHash.toString('hex')))
    const ready = new Promise<void>((resolve) => dht.once('ready', () => resolve()))
    await new Promise<void>((resolve, reject) => {
      dht.once('error', reject)
      dht.listen(0, host, () => resolve())
    })
    dht.on('error', (error: Error) => progress(`a DHT node of the script failed: ${error.message}`))
    nodes.push(dht)
    await ready
    return dht
  }
  const first = await start('127.0.0.3', [])
  const bootstrap = `127.0.0.3:${first.address().port}`
  for (let index = 0; index < count; index += 25) {
    const batch = Array.from({ length: Math.min(25, count - index) }, (_, offset) => index + offset)
    await Promise.all(batch.map(async (n) => await start(`127.0.${1 + Math.floor(n / 250)}.${1 + (n % 250)}`, [bootstrap])))
  }
  return {
    bootstrap,
    close: async () => { await Promise.all(nodes.map(async (dht) => await new Promise<void>((resolve) => dht.destroy(() => resolve())))) }
  }
}

async function writeItems (library: string, count: number): Promise<void> {
  await mkdir(library, { recursive: true })
  const next = pseudoRandomStream('bench-dht: items')
  for (let index = 0; index < count; index++) await writeFile(join(library, `item-${String(index).padStart(4, '0')}.bin`), next(4096 + (index % 97)))
}

async function runServe (settings: Settings, library: string, stateDir: string, dht: { bootstrap: string, announced: Set<string> } | undefined): Promise<Run> {
  const serve = await ServeProcess.run({
    libraries: [library],
    stateDir,
    asService: true,
    settings: dht === undefined ? { 'dht.enabled': false } : { 'dht.enabled': true, 'dht.bootstrap': [dht.bootstrap] }
  })
  try {
    const published = await serve.waitForCount((line) => line.msg === 'published', settings.items, 300_000)
    let announcedAllMs: number | undefined
    if (dht !== undefined) {
      const hashes = published.map((line) => line.infohash!)
      const deadline = Date.now() + 600_000
      while (!hashes.every((hash) => dht.announced.has(hash))) {
        if (Date.now() > deadline) throw new Error(`only ${hashes.filter((hash) => dht.announced.has(hash)).length} of ${hashes.length} announced after 10 minutes`)
        await sleep(200)
      }
      announcedAllMs = performance.now() - serve.spawnedAt
      progress(`all ${hashes.length} infohashes announced ${(announcedAllMs / 1000).toFixed(1)} s after spawn`)
    }
    await sleep(settings.settleSeconds * 1000)
    const memory = memoryOf(serve.pid)
    progress(`DHT ${dht === undefined ? 'off' : 'on'}: RSS ${(memory.rssBytes / MB).toFixed(1)} MB, peak ${(memory.peakBytes / MB).toFixed(1)} MB`)
    const problems = serve.lines.filter((line) => line.level === 'warn' || line.level === 'error')
    if (problems.length > 0) progress(`warnings: ${problems.map((line) => JSON.stringify(line)).join('\n')}`)
    await serve.stop()
    const tableNodes = dht === undefined ? undefined : (JSON.parse(await readFile(join(stateDir, 'dht.json'), 'utf8')) as { nodes: unknown[] }).nodes.length
    return { dht: dht !== undefined, rssBytes: memory.rssBytes, peakBytes: memory.peakBytes, ...(announcedAllMs !== undefined && { announcedAllMs }), ...(tableNodes !== undefined && { tableNodes }) }
  } finally {
    await serve.stop()
  }
}

function report (settings: Settings, off: Run, on: Run): string {
  const mb = (bytes: number): string => (bytes / MB).toFixed(1)
  const added = (on.rssBytes - off.rssBytes) / MB
  return [
    `DHT memory, ${settings.items.toLocaleString('en-US')} published items, a loopback DHT of ${settings.nodes} nodes; serve as the systemd unit runs it; RSS ${settings.settleSeconds} s after the last announce`,
    '',
    '| serve | RSS (MB) | peak RSS (MB) | all items announced after spawn | nodes in serve\'s table |',
    '|---|--:|--:|--:|--:|',
    `| DHT off | ${mb(off.rssBytes)} | ${mb(off.peakBytes)} | – | – |`,
    `| DHT on | ${mb(on.rssBytes)} | ${mb(on.peakBytes)} | ${((on.announcedAllMs ?? 0) / 1000).toFixed(1)} s | ${on.tableNodes ?? 0} |`,
    `| added by the DHT | ${added.toFixed(1)} | ${((on.peakBytes - off.peakBytes) / MB).toFixed(1)} | | |`,
    '',
    `Budget: ≤ ${BUDGET_MB} MB added: ${added <= BUDGET_MB ? 'met' : 'NOT met'}.`
  ].join('\n')
}

function parseSettings (): Settings {
  const { values } = parseArgs({ options: { items: { type: 'string' }, nodes: { type: 'string' }, settle: { type: 'string' } } })
  const number = (text: string | undefined, fallback: number, option: string): number => {
    if (text === undefined) return fallback
    if (!/^[1-9]\d*$/.test(text)) throw new Error(`${option} expects a positive whole number, not "${text}"`)
    return Number(text)
  }
  return { items: number(values.items, 1000, '--items'), nodes: number(values.nodes, 300, '--nodes'), settleSeconds: number(values.settle, 10, '--settle') }
}

async function main (): Promise<void> {
  const settings = parseSettings()
  const work = mkdtempSync(join(tmpdir(), 'evertorrent-bench-dht-'))
  const announced = new Set<string>()
  let ownDht: { bootstrap: string, close: () => Promise<void> } | undefined
  const interrupt = (): void => {
    killAllChildren()
    rmSync(work, { recursive: true, force: true })
    process.exit(130)
  }
  process.once('SIGINT', interrupt)
  process.once('SIGTERM', interrupt)
  try {
    const library = join(work, 'library')
    const stateDir = join(work, 'state')
    await writeItems(library, settings.items)
    progress(`first publish of ${settings.items} items (hashing, not measured)`)
    await runServe(settings, library, stateDir, undefined)
    progress(`starting a DHT of ${settings.nodes} nodes on loopback`)
    ownDht = await startOwnDht(settings.nodes, announced)
    const off = await runServe(settings, library, stateDir, undefined)
    const on = await runServe(settings, library, stateDir, { bootstrap: ownDht.bootstrap, announced })
    process.stdout.write(`${report(settings, off, on)}\n`)
  } finally {
    await ownDht?.close()
    killAllChildren()
    rmSync(work, { recursive: true, force: true })
  }
}

try {
  await main()
} catch (error) {
  progress(error instanceof Error ? (error.stack ?? error.message) : String(error))
  process.exitCode = 1
}
