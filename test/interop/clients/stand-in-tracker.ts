import { once } from 'node:events'

/** The part of bittorrent-tracker's Server this helper uses (the package ships no types). */
interface TrackerServer {
  readonly http: { address (): { port: number } }
  listen (port: number, hostname: string): void
  close (callback: () => void): void
  on (event: 'error', listener: (error: Error) => void): void
  once (event: 'listening', listener: () => void): void
}

export interface StandInTracker {
  readonly announceUrl: string
  close (): Promise<void>
}

/**
 * A plain bittorrent-tracker HTTP tracker on 127.0.0.1: a tracker that is not evertorrent's (which
 * always hands out the everseed), for swarms of other seeds (the libtorrent seed of the client tests,
 * the seeders bench-serve compares evertorrent with, one tracker each).
 */
export async function startStandInTracker (): Promise<StandInTracker> {
  // A computed specifier keeps tsc from asking for bittorrent-tracker's types, which the project lacks.
  const moduleName = 'bittorrent-tracker'
  const { Server } = await import(moduleName) as { Server: new (options: object) => TrackerServer }
  const server = new Server({ http: true, udp: false, ws: false, stats: false })
  const errors: Error[] = []
  server.on('error', (error) => errors.push(error))
  const listening = once(server as unknown as NodeJS.EventEmitter, 'listening')
  server.listen(0, '127.0.0.1')
  await listening
  return {
    announceUrl: `http://127.0.0.1:${server.http.address().port}/announce`,
    async close () {
      await new Promise<void>((resolve) => server.close(resolve))
      if (errors.length > 0) throw new Error(`stand-in tracker: ${errors.map((error) => error.message).join('; ')}`)
    }
  }
}
