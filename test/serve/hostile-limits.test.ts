import test from 'ava'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { sha256, writeTree } from '../helpers/content.js'
import { memoryCgroup } from '../helpers/memory-cgroup.js'
import { sourcePath } from '../helpers/repo.js'
import { ServeProcess } from '../helpers/serve-process.js'
import { tempDir } from '../helpers/temp-dir.js'
import { ATTACKER, holdSockets, MiB, sendLargeFrame } from './attacks.js'
import { descriptorCount, memoryOf } from '../helpers/proc.js'

/** The limits config/evertorrent.service gives the service, read from the unit itself. */
function unitLimits (): { memoryMax: number, openFiles: number, env: Record<string, string> } {
  const unit = readFileSync(sourcePath('config/evertorrent.service'), 'utf8')
  const memoryMax = /^MemoryMax=(\d+)M$/m.exec(unit)?.[1]
  const openFiles = /^LimitNOFILE=(\d+)$/m.exec(unit)?.[1]
  const heap = /^ExecStart=\S+ (--max-old-space-size=\d+) /m.exec(unit)?.[1]
  if (memoryMax === undefined || openFiles === undefined || heap === undefined) throw new Error('the unit no longer sets MemoryMax=<n>M, LimitNOFILE= and --max-old-space-size as this test reads them')
  const env = Object.fromEntries([...unit.matchAll(/^Environment=(\w+)=(.*)$/gm)].map((match) => [match[1]!, match[2]!]))
  return { memoryMax: Number(memoryMax) * MiB, openFiles: Number(openFiles), env: { ...env, NODE_OPTIONS: `${heap} ${env.NODE_OPTIONS ?? ''}`.trim() } }
}

test('under the unit\'s MemoryMax and LimitNOFILE, 20,000 idle connections and five 90 MiB WebSocket frames neither kill serve nor stop it serving', async (t) => {
  t.timeout(6 * 60_000)
  const limits = unitLimits()
  // Made before serve starts, so that it is removed after serve has stopped.
  const cgroup = await memoryCgroup(t, { maxBytes: limits.memoryMax, openFiles: limits.openFiles })
  t.log(`${cgroup.how}, LimitNOFILE=${limits.openFiles}, env ${JSON.stringify(limits.env)}`)
  const root = tempDir(t)
  const written = writeTree(join(root, 'library'), { 'film.bin': 4 * MiB })
  const serve = await ServeProcess.start(t, { libraries: [join(root, 'library')], stateDir: join(root, 'state'), env: limits.env, wrap: cgroup.wrap })
  const film = await serve.waitFor((line) => line.msg === 'published')
  const pid = serve.child.pid!
  t.regex(readFileSync(`/proc/${pid}/limits`, 'utf8'), new RegExp(`^Max open files\\s+${limits.openFiles}\\s+${limits.openFiles}\\s`, 'm'), 'serve runs under LimitNOFILE')
  t.false(serve.lines.some((line) => line.msg === 'connection limits lowered to fit the open-files limit'), 'the default limits fit the unit\'s LimitNOFILE')

  const holders = await Promise.all([
    holdSockets(t, { host: '127.0.0.1', port: serve.httpPort, localAddress: ATTACKER, count: 10_000, kind: 'http' }),
    holdSockets(t, { host: '127.0.0.1', port: serve.trackerPort, localAddress: ATTACKER, count: 10_000, kind: 'ws' })
  ])
  t.is(holders[0].connected + holders[1].connected, 20_000)
  t.log(`serve holds ${await descriptorCount(pid)} descriptors with 20,000 connections held against it`)
  // From another address: the holders have every connection 127.0.0.2 may have.
  const frames = await Promise.all([1, 2, 3, 4, 5].map(async () => await sendLargeFrame('127.0.0.1', serve.httpPort, 90 * MiB, '127.0.0.4')))
  t.deepEqual(frames.map((frame) => frame.closedByServer), Array(5).fill(true))

  t.true(serve.running, 'serve is alive')
  const stats = await cgroup.stats()
  const memory = memoryOf(pid)
  t.log(`cgroup: ${JSON.stringify(stats)}; serve peak RSS ${(memory.peakBytes / MiB).toFixed(1)} MiB`)
  t.is(stats.oomKills, 0, 'no OOM kill recorded by the cgroup')
  const base = `http://127.0.0.1:${serve.httpPort}`
  t.is((await fetch(`${base}/api/status`, { signal: AbortSignal.timeout(30_000) })).status, 200)
  const download = await fetch(`${base}/webseed/${film.infohash!}/film.bin`, { signal: AbortSignal.timeout(30_000) })
  t.is(sha256(new Uint8Array(await download.arrayBuffer())), sha256(written.get('film.bin')!))
  t.is(await serve.stop(), 0, 'a clean exit on SIGTERM')
  t.truthy(serve.lines.find((line) => line.msg === 'stopped'))
})
