/**
 * How soon `evertorrent serve` answers its status page after it is started, as its systemd unit runs
 * it (node flags and Environment= of config/evertorrent.service) with an empty library: `GET /` polled
 * every ~2 ms from the spawn. Rounds alternate with a bare Node HTTP server started with the same flags,
 * the floor any Node service stands on. Then what the imports cost: each module serve loads, imported
 * alone in a fresh process with the same flags. Prints the figures; asserts nothing.
 *
 * Usage: node dist/scripts/bench-startup.js [--rounds N] [--import-runs N] [--before PATH]
 */
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { mkdirSync, readdirSync, readFileSync } from 'node:fs'
import { spawnTracked, stopChild } from '../test/helpers/child-process.js'
import { freePort, pollPage, type PagePoll } from '../test/helpers/page-poll.js'
import { repoRoot } from '../test/helpers/repo.js'
import { ServeProcess, serviceProcess } from '../test/helpers/serve-process.js'
import { makeTempDir, removeTempDir } from '../test/helpers/temp-dir.js'

const USAGE = `Usage: node dist/scripts/bench-startup.js [options]

Options:
  --rounds N        rounds, each serve then the bare server (default: 10)
  --import-runs N   fresh processes per module for the import costs; 0: skip them (default: 3)
  --before PATH     another build's cli.js (e.g. the code before a change), started in every round too
  -h, --help        this help`

/** Modules serve loads before it listens: the npm packages and each room's entry, imported alone. */
const MODULES = [
  'bencode', 'bittorrent-dht', 'bittorrent-protocol', 'bittorrent-tracker', 'bittorrent-tracker/server', 'lean-qr', 'smol-toml', 'ut_metadata', 'ws',
  ...['cli/serve-command', 'service', 'config/settings', 'tracker/tracker', 'seeder/seeder', 'dht/dht', 'web/http-server', 'web/status-page',
    'web/web-seed', 'library/publisher', 'library/libraries', 'hardware/hardware-controller', 'network/port-mapper', 'network/public-host',
    'metainfo/metainfo'].map((name) => pathToFileURL(join(repoRoot, 'dist', 'appliance', `${name}.js`)).href)
]

const BARE_SERVER = "require('node:http').createServer((q, s) => s.end('ok')).listen(Number(process.argv[1]), '127.0.0.1')"
const IMPORT_TIMER = 'const t = performance.now(); await import(process.argv[1]); process.stdout.write(String(performance.now() - t))'

function median (values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

/**
 * CPU time the process has run so far, all its threads (/proc/PID/task/TID/schedstat, nanoseconds):
 * unlike wall time, it does not grow with what else the machine runs.
 */
function cpuMsOf (pid: number): number {
  let ns = 0
  for (const task of readdirSync(`/proc/${pid}/task`)) ns += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0])
  return ns / 1e6
}

interface Round extends PagePoll {
  /** CPU time of the process when its first 200 came. */
  readonly cpuMs: number
}

const ms = (value: number): string => `${value.toFixed(1)} ms`

async function serveRound (root: string, round: number, cli: string | undefined): Promise<Round> {
  const port = await freePort()
  const folder = join(root, `round-${round}`)
  const library = join(folder, 'library')
  mkdirSync(library, { recursive: true })
  const serve = ServeProcess.spawn({ libraries: [library], stateDir: join(folder, 'state'), asService: true, ports: { http: port, tracker: 0, peer: 0 }, ...(cli !== undefined && { cli }) })
  let cpuMs = 0
  try {
    return { ...await pollPage({ port, since: serve.spawnedAt, onFirstOk: () => { cpuMs = cpuMsOf(serve.pid) } }), cpuMs }
  } finally {
    await serve.stop()
  }
}

async function bareRound (): Promise<Round> {
  const port = await freePort()
  const { nodeFlags, env } = serviceProcess()
  const spawnedAt = performance.now()
  const child = spawnTracked(process.execPath, [...nodeFlags, '-e', BARE_SERVER, String(port)], { env: { ...process.env, ...env } })
  let cpuMs = 0
  try {
    return { ...await pollPage({ port, since: spawnedAt, onFirstOk: () => { cpuMs = cpuMsOf(child.pid!) } }), cpuMs }
  } finally {
    await stopChild(child)
  }
}

/** Milliseconds to import `specifier` in a fresh process with the unit's flags. */
async function importMs (specifier: string): Promise<number> {
  const { nodeFlags, env } = serviceProcess()
  const child = spawnTracked(process.execPath, [...nodeFlags, '--input-type=module', '-e', IMPORT_TIMER, specifier], { env: { ...process.env, ...env }, cwd: repoRoot })
  let out = ''
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => { out += chunk })
  const { code } = await stopChildOnExit(child)
  if (code !== 0) throw new Error(`importing ${specifier} failed (exit code ${code})`)
  return Number(out)
}

async function stopChildOnExit (child: ReturnType<typeof spawnTracked>): Promise<{ code: number | null }> {
  return await new Promise((resolve) => child.once('exit', (code) => resolve({ code })))
}

function shortName (specifier: string): string {
  return specifier.startsWith('file:') ? specifier.slice(specifier.indexOf('/dist/') + 1) : specifier
}

function printTable (name: string, serve: readonly Round[], bare: readonly Round[]): void {
  const rounds = serve.length
  const serveOk = median(serve.map((poll) => poll.firstOkMs))
  const bareOk = median(bare.map((poll) => poll.firstOkMs))
  const notOkRounds = serve.filter((poll) => poll.notOkBefore.length > 0 || poll.notOkAfter.length > 0).length
  console.log(`\n| ${name}, median of rounds | serve | bare node server | ratio |\n|---|---|---|---|`)
  console.log(`| spawn → first answer to GET / | ${ms(median(serve.map((poll) => poll.firstAnswerMs)))} | ${ms(median(bare.map((poll) => poll.firstAnswerMs)))} | |`)
  console.log(`| spawn → first 200 to GET / | ${ms(serveOk)} | ${ms(bareOk)} | ${(serveOk / bareOk).toFixed(2)}× |`)
  const serveCpu = median(serve.map((poll) => poll.cpuMs))
  const bareCpu = median(bare.map((poll) => poll.cpuMs))
  console.log(`| CPU time (all threads) spent by the first 200 | ${ms(serveCpu)} | ${ms(bareCpu)} | ${(serveCpu / bareCpu).toFixed(2)}× |`)
  console.log(`| rounds with a non-200 for / once it answered | ${notOkRounds} of ${rounds} | | |`)
}

async function main (): Promise<void> {
  const { values } = parseArgs({ options: { rounds: { type: 'string', default: '10' }, 'import-runs': { type: 'string', default: '3' }, before: { type: 'string' }, help: { type: 'boolean', short: 'h' } } })
  if (values.help === true) {
    console.log(USAGE)
    return
  }
  const rounds = Number(values.rounds)
  const importRuns = Number(values['import-runs'])
  const { nodeFlags, env } = serviceProcess()
  console.log(`node ${process.version}, flags: ${[...nodeFlags, ...Object.entries(env).map(([key, value]) => `${key}=${value}`)].join(' ')}; ${rounds} rounds, serve and the bare server alternated`)
  const root = makeTempDir('evertorrent-bench-startup-')
  const serve: Round[] = []
  const before: Round[] = []
  const bare: Round[] = []
  try {
    for (let round = 0; round < rounds; round++) {
      if (values.before !== undefined) before.push(await serveRound(root, round, values.before))
      serve.push(await serveRound(root, round, undefined))
      bare.push(await bareRound())
      const [s, b] = [serve.at(-1)!, bare.at(-1)!]
      const o = before.at(-1)
      if (o !== undefined) console.log(`round ${round + 1}: before first answer ${ms(o.firstAnswerMs)} (${o.firstStatus}), first 200 ${ms(o.firstOkMs)}, before it: ${o.notOkBefore.join(' ') || 'nothing'}, CPU ${ms(o.cpuMs)}`)
      console.log(`round ${round + 1}: serve first answer ${ms(s.firstAnswerMs)} (${s.firstStatus}), first 200 ${ms(s.firstOkMs)}, before it: ${s.notOkBefore.join(' ') || 'nothing'}, CPU ${ms(s.cpuMs)}; bare first 200 ${ms(b.firstOkMs)}, CPU ${ms(b.cpuMs)}`)
    }
  } finally {
    removeTempDir(root)
  }
  if (before.length > 0) printTable('before (--before)', before, bare)
  printTable('serve (this build)', serve, bare)
  if (importRuns === 0) return
  console.log(`\nImport cost of each module alone (fresh process, unit flags, median of ${importRuns}; modules share dependencies, so they do not add up):`)
  const costs: Array<[string, number]> = []
  for (const specifier of MODULES) {
    const runs: number[] = []
    for (let run = 0; run < importRuns; run++) runs.push(await importMs(specifier))
    costs.push([shortName(specifier), median(runs)])
  }
  for (const [name, cost] of costs.sort((a, b) => b[1] - a[1])) console.log(`  ${ms(cost).padStart(9)}  ${name}`)
}

await main()
