/**
 * `node dist/scripts/bench-serve-mse.js`: what message stream encryption costs the everseed. One large
 * item, downloaded from `evertorrent serve` (run as its systemd unit runs it) over loopback by
 * libtorrent in plaintext only (pe_disabled) and with RC4 forced (pe_forced), in turn, best of
 * `--runs`: throughput, and the seeder's CPU seconds per GB sent. The goal: encrypted ≥ 80 % of
 * plaintext. libtorrent shares the machine's cores, and ciphers too, so the figure is a floor.
 *
 * Usage: node dist/scripts/bench-serve-mse.js [--quick] [--runs N] [--cli PATH]
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { writePseudoRandomFile } from '../test/helpers/content.js'
import { killAllChildren } from '../test/helpers/child-process.js'
import { cpuSecondsOf } from '../test/helpers/proc.js'
import { cliPath } from '../test/helpers/repo.js'
import { parseScriptEvent, startLibtorrentScript } from '../test/interop/clients/libtorrent-python.js'
import { torrentWithoutWebSeeds } from '../test/interop/clients/without-web-seeds.js'
import { publishedLines, startServe } from './bench-serve-seeders.js'

const MiB = 1024 * 1024
const MB = 1e6
const GB = 1e9

type Mode = 'disabled' | 'forced'
const LABEL: Record<Mode, string> = { disabled: 'plaintext (pe_disabled)', forced: 'MSE RC4 (pe_forced)' }

interface Run {
  readonly mode: Mode
  readonly seconds: number
  readonly cpuSeconds: number
  /** libtorrent's, which deciphers (and hashes) on the same cores. */
  readonly clientCpuSeconds: number
  readonly rc4: boolean
}

async function download (root: string, torrentFile: string, peerPort: number, mode: Mode, serveCpu: () => number, timeoutSeconds: number): Promise<Run> {
  const save = join(root, 'download')
  await rm(save, { recursive: true, force: true })
  await mkdir(save, { recursive: true })
  let done: { ok: boolean, seconds: number, peers: Array<{ rc4: boolean }> } | undefined
  const cpuBefore = serveCpu()
  const child = await startLibtorrentScript('libtorrent', 'lt_encryption.py', [
    '--torrent', torrentFile, '--save', save, '--encryption', mode, '--peer', `127.0.0.1:${peerPort}`, '--seconds', String(timeoutSeconds)
  ], {
    onStdoutLine: (line) => {
      const event = parseScriptEvent(line)
      if (event?.event === 'done') done = event as unknown as typeof done
    }
  })
  let clientCpuSeconds = 0
  const sampler = setInterval(() => { try { clientCpuSeconds = cpuSecondsOf(child.pid) } catch {} }, 100)
  await child.exited
  clearInterval(sampler)
  const cpuSeconds = serveCpu() - cpuBefore
  if (done?.ok !== true) throw child.failure(`the ${mode} download did not complete`)
  await rm(save, { recursive: true, force: true })
  return { mode, seconds: done.seconds, cpuSeconds, clientCpuSeconds, rc4: done.peers.some((peer) => peer.rc4) }
}

async function main (): Promise<void> {
  const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, runs: { type: 'string', default: '3' }, cli: { type: 'string', default: cliPath } } })
  const bytes = (values.quick ? 256 : 1024) * MiB
  const runs = Number(values.runs)
  const root = mkdtempSync(join(tmpdir(), 'evertorrent-bench-mse-'))
  try {
    const library = join(root, 'library')
    await mkdir(library, { recursive: true })
    await writePseudoRandomFile(join(library, 'big.bin'), bytes, 'bench-mse')
    const serve = await startServe({ cli: values.cli, libraries: [library], stateDir: join(root, 'state') })
    try {
      const [published] = await publishedLines(serve, 1, 600_000)
      const torrentFile = join(root, 'big.torrent')
      await writeFile(torrentFile, torrentWithoutWebSeeds(await readFile(published!.line.torrent!)))
      const results: Run[] = []
      for (let run = 0; run < runs; run++) {
        for (const mode of ['disabled', 'forced'] as const) {
          const result = await download(root, torrentFile, serve.peerPort, mode, () => cpuSecondsOf(serve.pid), 600)
          results.push(result)
          process.stdout.write(`run ${run + 1} ${LABEL[mode]}: ${(bytes / MB / result.seconds).toFixed(1)} MB/s, serve ${(result.cpuSeconds / (bytes / GB)).toFixed(2)} CPU s/GB, libtorrent ${(result.clientCpuSeconds / (bytes / GB)).toFixed(2)} CPU s/GB, rc4 ${String(result.rc4)}\n`)
        }
      }
      printTable(results, bytes)
    } finally {
      await serve.stop()
    }
  } finally {
    killAllChildren()
    rmSync(root, { recursive: true, force: true })
  }
}

function printTable (results: readonly Run[], bytes: number): void {
  const best = (mode: Mode): Run => results.filter((run) => run.mode === mode).reduce((a, b) => (b.seconds < a.seconds ? b : a))
  const plain = best('disabled')
  const rc4 = best('forced')
  process.stdout.write(`\n${(bytes / MiB).toFixed(0)} MiB to libtorrent over loopback, best of ${results.length / 2}; ${cpus().length} × ${cpus()[0]?.model ?? '?'}\n\n`)
  process.stdout.write('| connection | MB/s | serve CPU s per GB | libtorrent CPU s per GB |\n|---|---|---|---|\n')
  for (const run of [plain, rc4]) process.stdout.write(`| ${LABEL[run.mode]} | ${(bytes / MB / run.seconds).toFixed(1)} | ${(run.cpuSeconds / (bytes / GB)).toFixed(2)} | ${(run.clientCpuSeconds / (bytes / GB)).toFixed(2)} |\n`)
  process.stdout.write(`\nencrypted / plaintext throughput: ${(100 * plain.seconds / rc4.seconds).toFixed(0)} % (goal ≥ 80 %)\n`)
}

await main()
