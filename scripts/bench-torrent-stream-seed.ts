/**
 * A torrent-stream seed for bench-serve's engine comparison: loads torrents whose content is already
 * on disk and seeds them on one TCP port (peer-wire-swarm shares one server per port among torrents).
 * torrent-stream is not a dependency of evertorrent; it is loaded from the folder `--module` names.
 *
 * Usage: node dist/scripts/bench-torrent-stream-seed.js --module DIR --port N --list FILE [--announce URL] [--no-verify]
 *
 * FILE is a JSON array of `{ "torrent": path, "dir": folder holding the torrent's name }`. Every
 * torrent is rewritten to announce to `--announce` only (no tracker at all without it) and to carry
 * no web seed. DHT is off. Prints JSON lines on stdout: `{"event":"ready","torrents":N,"ms":…}` once
 * every torrent is verified and seeding, `{"event":"error",…}` on failure. Stops on SIGTERM.
 */
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { parseArgs } from 'node:util'
import { encodeTorrent, parseTorrent } from '../appliance/metainfo/metainfo.js'

/** The part of a torrent-stream engine this script uses (the package ships no types). */
interface Engine {
  once (event: 'ready', listener: () => void): void
  on (event: 'error', listener: (error: Error) => void): void
  listen (port: number, callback?: () => void): void
  destroy (callback?: () => void): void
}

type TorrentStream = (torrent: Buffer, options: Record<string, unknown>) => Engine

interface ListEntry {
  readonly torrent: string
  readonly dir: string
}

function say (message: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(message)}\n`)
}

async function main (): Promise<void> {
  const { values } = parseArgs({
    options: {
      module: { type: 'string' },
      port: { type: 'string' },
      list: { type: 'string' },
      announce: { type: 'string' },
      'no-verify': { type: 'boolean' }
    }
  })
  if (values.module === undefined || values.port === undefined || values.list === undefined) throw new Error('--module, --port and --list are required')
  const torrentStream = createRequire(import.meta.url)(values.module) as TorrentStream
  const port = Number(values.port)
  const announce = values.announce
  const entries = JSON.parse(await readFile(values.list, 'utf8')) as ListEntry[]
  const engines: Engine[] = []
  process.once('SIGTERM', () => {
    let open = engines.length
    const done = (): void => { if (--open <= 0) process.exit(0) }
    for (const engine of engines) engine.destroy(done)
    if (open === 0) process.exit(0)
    setTimeout(() => process.exit(0), 2000).unref()
  })

  const started = performance.now()
  let pending = entries.length
  for (const entry of entries) {
    const metainfo = parseTorrent(await readFile(entry.torrent))
    const torrent = encodeTorrent({ ...metainfo, announceList: announce === undefined ? [] : [[announce]], urlList: [] })
    const engine = torrentStream(torrent, {
      path: entry.dir,
      tmp: entry.dir,
      dht: false,
      tracker: announce !== undefined,
      verify: values['no-verify'] !== true
    })
    engine.on('error', (error) => say({ event: 'error', message: error.message }))
    engine.once('ready', () => {
      if (--pending === 0) say({ event: 'ready', torrents: entries.length, ms: performance.now() - started })
    })
    engine.listen(port)
    engines.push(engine)
  }
  say({ event: 'loaded', torrents: entries.length, ms: performance.now() - started })
}

main().catch((error: unknown) => {
  say({ event: 'error', message: error instanceof Error ? error.message : String(error) })
  process.exit(1)
})
