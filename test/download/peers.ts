import { randomBytes } from 'node:crypto'
import { createServer, type Server, type Socket } from 'node:net'
import Wire from 'bittorrent-protocol'
import utMetadata from 'ut_metadata'
import { Download, type DownloadOptions, type DownloadResult } from '../../appliance/download/download.js'
import type { DownloadError } from '../../appliance/download/download-errors.js'
import type { Teardown } from '../helpers/teardown.js'

export interface WatchedDownload {
  readonly download: Download
  /** Addresses (peers) and URLs (web seeds) banned for sending bad data. */
  readonly banned: string[]
  readonly webSeedEvents: string[]
  /** The result, or the error it failed with. */
  readonly outcome: Promise<DownloadResult | DownloadError>
}

/** Starts a download, closed when the test ends, with what it reports collected. */
export async function watchDownload (t: Teardown, options: DownloadOptions): Promise<WatchedDownload> {
  const download = new Download(options)
  t.teardown(async () => { await download.close() })
  const banned: string[] = []
  const webSeedEvents: string[] = []
  download.on('peer', (event) => { if (event.event === 'banned') banned.push(event.address) })
  download.on('web-seed', (event) => { webSeedEvents.push(`${event.event} ${event.url}: ${event.reason}`); if (event.event === 'banned') banned.push(event.url) })
  const outcome = download.finished.then((result) => result, (error: DownloadError) => error)
  await download.start()
  return { download, banned, webSeedEvents, outcome }
}

export interface HostileSeed {
  readonly host: string
  readonly port: number
  /** Blocks it answered (with wrong bytes when `corrupt`). */
  readonly blocksSent: () => number
}

export interface HostileSeedOptions {
  readonly host: string
  readonly infoHash: string
  readonly pieceCount: number
  /** The info dictionary it serves over BEP 9, if any. */
  readonly infoBytes?: Uint8Array
  /** Answers every request with random bytes. */
  readonly corrupt: boolean
}

/**
 * A peer run by the test, on the real wire (bittorrent-protocol): claims every piece, unchokes at
 * once, answers each request at once (random bytes when `corrupt`), and serves `infoBytes` by BEP 9.
 */
export async function startHostileSeed (t: Teardown, options: HostileSeedOptions): Promise<HostileSeed> {
  let blocks = 0
  const sockets = new Set<Socket>()
  const server: Server = createServer((socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
    socket.on('error', () => socket.destroy())
    const wire = new Wire('tcpIncoming')
    socket.on('data', (chunk: Buffer) => wire.write(chunk))
    wire.on('data', (chunk) => { if (!socket.destroyed) socket.write(chunk) })
    socket.once('close', () => wire.destroy())
    if (options.infoBytes !== undefined) wire.use(utMetadata(options.infoBytes))
    wire.on('handshake', () => {
      wire.handshake(options.infoHash, randomBytes(20))
      const bitfield = new Uint8Array(Math.ceil(options.pieceCount / 8)).fill(0xff)
      wire.bitfield(bitfield)
    })
    wire.on('interested', () => wire.unchoke())
    wire.on('request', (_index, _offset, length, respond) => {
      blocks++
      respond(null, options.corrupt ? randomBytes(length) : Buffer.alloc(length))
    })
    wire.on('error', () => socket.destroy())
  })
  await new Promise<void>((resolve) => server.listen(0, options.host, resolve))
  t.teardown(async () => {
    for (const socket of sockets) socket.destroy()
    await new Promise((resolve) => server.close(resolve))
  })
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('the hostile seed has no port')
  return { host: options.host, port: address.port, blocksSent: () => blocks }
}
