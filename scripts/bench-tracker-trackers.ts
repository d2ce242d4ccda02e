/**
 * The two trackers bench-tracker compares, each a child process it reads in /proc: `evertorrent serve`
 * as its systemd unit runs it, in "open" mode, and Debian's opentracker with a config of its own.
 */
import { existsSync } from 'node:fs'
import { chmod, mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { spawnTracked, stopChild } from '../test/helpers/child-process.js'
import { freePort } from '../test/interop/clients/free-port.js'
import { ServeProcess } from '../test/helpers/serve-process.js'
import { connectionIdOf, encodeConnect } from './bench-tracker-datagrams.js'
import { udpExchange } from './bench-tracker-udp-client.js'

export const OPENTRACKER = '/usr/bin/opentracker'

export interface RunningTracker {
  readonly name: string
  readonly pid: number
  readonly host: string
  readonly udpPort: number
  readonly httpPort: number
  /** Ends the process (SIGTERM, then SIGKILL) and resolves once it has exited. */
  readonly stop: () => Promise<void>
}

/**
 * "open" tracks any infohash, so the bench needs no published items (1,000 of them would be 1,000
 * files to hash at every start), and opentracker gets the same infohashes in its whitelist: each
 * tracker looks the infohash up in one table before it takes the announce.
 */
export const EVERTORRENT_SETTINGS: Readonly<Record<string, unknown>> = {
  'tracker.mode': 'open',
  // wrk's 100 connections all come from 127.0.0.1; on a network they would come from 100 addresses.
  'http.max_connections_per_address': 256
}

export interface EvertorrentOptions {
  /** A folder of its own: the config file, state folder and empty library go there. */
  readonly dir: string
  /** Over EVERTORRENT_SETTINGS. */
  readonly settings?: Readonly<Record<string, unknown>>
  /** Another build's cli.js; default: this build's. */
  readonly cli?: string
  /** Default: evertorrent. */
  readonly name?: string
}

export async function startEvertorrent (options: EvertorrentOptions): Promise<RunningTracker> {
  const library = join(options.dir, 'library')
  await mkdir(library, { recursive: true })
  const serve = await ServeProcess.run({
    libraries: [library],
    stateDir: join(options.dir, 'state'),
    asService: true,
    settings: { ...EVERTORRENT_SETTINGS, ...options.settings },
    ...(options.cli !== undefined && { cli: options.cli })
  })
  return { name: options.name ?? 'evertorrent', pid: serve.pid, host: '127.0.0.1', udpPort: serve.trackerPort, httpPort: serve.trackerPort, stop: async () => { await serve.stop() } }
}

/** Throws, naming the Debian package, where opentracker is not installed. */
export function requireOpentracker (): void {
  if (!existsSync(OPENTRACKER)) throw new Error(`${OPENTRACKER} is missing: install Debian's opentracker package (apt-get install opentracker)`)
}

/**
 * opentracker on 127.0.0.2, TCP and UDP on one free port. Debian builds it with a whitelist
 * (WANT_ACCESSLIST_WHITE) and no way to turn it off, so every infohash the bench announces is in it.
 * Run as root, it chroots to `tracker.rootdir` and becomes `nobody`: the folder and the list must be
 * readable by nobody, and the list's path is the one inside the chroot.
 */
export async function startOpentracker (dir: string, hashesHex: readonly string[]): Promise<RunningTracker> {
  requireOpentracker()
  await mkdir(dir, { recursive: true })
  await chmod(dir, 0o755)
  await writeFile(join(dir, 'whitelist'), hashesHex.map((hash) => `${hash}\n`).join(''), { mode: 0o644 })
  const host = '127.0.0.2'
  const port = await freePort()
  await writeFile(join(dir, 'opentracker.conf'), [
    `listen.tcp ${host}:${port}`,
    `listen.udp ${host}:${port}`,
    'access.whitelist /whitelist',
    `tracker.rootdir ${dir}`,
    ''
  ].join('\n'))
  const child = spawnTracked(OPENTRACKER, ['-f', join(dir, 'opentracker.conf')])
  let stderr = ''
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
  child.stdout!.resume()
  const stop = async (): Promise<void> => { await stopChild(child, 5000) }
  try {
    await waitUntilAnswering(host, port, () => child.exitCode !== null ? `opentracker exited (code ${child.exitCode}): ${stderr}` : undefined)
  } catch (error) {
    await stop()
    throw error
  }
  return { name: 'opentracker', pid: child.pid!, host, udpPort: port, httpPort: port, stop }
}

/** Resolves once a UDP connect is answered; throws what `failed` reports, or after 10 s. */
async function waitUntilAnswering (host: string, port: number, failed: () => string | undefined): Promise<void> {
  const deadline = Date.now() + 10_000
  while (Date.now() < deadline) {
    const why = failed()
    if (why !== undefined) throw new Error(why)
    const answer = await udpExchange({ source: '127.0.0.1', host, port }, encodeConnect(1), 1, 200).catch(() => undefined)
    if (answer !== undefined && connectionIdOf(answer) !== undefined) return
  }
  throw new Error(`opentracker did not answer a UDP connect on ${host}:${port} within 10 s`)
}
