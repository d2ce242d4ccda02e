/**
 * The hostile clients of the hardening issue, one burst at a time: thousands of idle sockets (a few
 * of them upgraded to WebSocket) from 127.0.0.2 to the HTTP port; WebSocket frames of 2 MiB; 60
 * handshaken peers that stay silent and 40 that request blocks and never read them, from 127.0.0.3;
 * garbage UDP datagrams at the tracker; a flood of announces for infohashes the box does not publish.
 *
 * A refused, reset or closed connection is the service defending itself and is counted, never an
 * error of the soak. What matters is what the service still does for everyone else meanwhile (the
 * steady load keeps running) and whether it lives.
 */
import { randomBytes, randomInt } from 'node:crypto'
import { createSocket } from 'node:dgram'
import { readFileSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import type { Metainfo } from '../../appliance/metainfo/metainfo.js'
import type { ServePorts } from '../../test/helpers/serve-process.js'
import { WebSocketClient } from '../../test/helpers/web-socket.js'
import { announcePath } from '../../test/tracker/tracker-client.js'
import type { Counters, Findings } from './counters.js'
import { httpGet } from './http-get.js'
import { sleep } from './pace.js'

/**
 * In turn. Those that hold connections first: the memory they leave to malloc and V8 is a plateau the
 * growth rule must not mistake for a leak, so the warm-up lasts until each has run once.
 */
export const BURSTS = ['idle-sockets', 'peers', 'big-ws-frames', 'udp-garbage', 'infohash-flood'] as const
export type Burst = typeof BURSTS[number]
/** Bursts that hold thousands of connections (and their memory) while they last. */
const HOLDING: ReadonlySet<Burst> = new Set(['idle-sockets', 'peers'])

const SOCKETS_ADDRESS = '127.0.0.2'
const PEERS_ADDRESS = '127.0.0.3'
/** The figure; fewer if this process may not open that many files (see `idleSocketCount`). */
const IDLE_SOCKETS = 20_000
const IDLE_WEB_SOCKETS = 1000
/**
 * The idle sockets are bound to ports counted up from here (below Linux's ephemeral range, 32768 up):
 * a bind to port 0 searches the range for a free port, which with thousands of sockets on one address
 * made each connect take milliseconds of this process's event loop, 80 s for 10,000.
 */
const IDLE_FIRST_PORT = 10_000
const IDLE_HOLD_MS = 30_000
const CONNECT_BATCH = 250
const CONNECT_TIMEOUT_MS = 10_000
const BIG_FRAMES = 5
const BIG_FRAME_BYTES = 2 * 1024 * 1024
const IDLE_PEERS = 60
const GREEDY_PEERS = 40
/** Longer than the seeder's stall rules (seeder.stall_disconnect_seconds: 20 s) after a turn or two of the choker, so they can act. */
const PEERS_HOLD_MS = 60_000
const BLOCK = 16 * 1024
/** A first round of requests that fills the socket buffers of loopback (several MB), then more every few seconds. */
const FIRST_REQUESTS = 300
const REQUESTS_PER_ROUND = 100
const REQUEST_ROUND_MS = 5000
const GARBAGE_DATAGRAMS = 3000
const GARBAGE_MS = 10_000
const FLOOD_ANNOUNCES = 2000
const FLOOD_MS = 20_000
const TIMEOUT_MS = 5000

export interface HostileOptions {
  readonly ports: ServePorts
  readonly counters: Counters
  readonly findings: Findings
  /** A published torrent to aim the peers at; undefined when none is published. */
  readonly target: () => Promise<Metainfo | undefined>
}

/** A connection a burst holds open. */
interface Held {
  destroy: () => void
}

export class Hostile {
  private readonly held = new Set<Held>()
  private current: Burst | undefined
  private lastEnd = -Infinity
  private readonly firstEnds = new Map<Burst, number>()

  constructor (private readonly options: HostileOptions) {}

  /** The burst under way, if any. */
  get active (): Burst | undefined {
    return this.current
  }

  /** performance.now() when each burst that holds connections (of those that ran) had run once; undefined if none ran. */
  firstHoldingEnd (): number | undefined {
    return this.firstEnds.size === 0 ? undefined : Math.max(...this.firstEnds.values())
  }

  /** A burst holds connections now, or let go of them less than `settleMs` ago. */
  holding (settleMs: number): boolean {
    return (this.current !== undefined && HOLDING.has(this.current)) || performance.now() - this.lastEnd < settleMs
  }

  async run (burst: Burst, signal: AbortSignal): Promise<void> {
    this.current = burst
    this.options.counters.add(`${burst}.bursts`)
    try {
      switch (burst) {
        case 'idle-sockets': return await this.idleSockets(signal)
        case 'big-ws-frames': return await this.bigFrames(signal)
        case 'peers': return await this.peers(signal)
        case 'udp-garbage': return await this.udpGarbage(signal)
        case 'infohash-flood': return await this.infohashFlood(signal)
      }
    } finally {
      this.destroy()
      if (HOLDING.has(burst)) {
        this.lastEnd = performance.now()
        if (!this.firstEnds.has(burst)) this.firstEnds.set(burst, this.lastEnd)
      }
      this.current = undefined
    }
  }

  /** Closes every socket a burst holds; synchronous, for the way out of a signal handler too. */
  destroy (): void {
    const held = [...this.held]
    this.held.clear()
    for (const connection of held) connection.destroy()
  }

  /** Holds `connection` until the burst ends; one that closes before is counted in `closedEarly`. */
  private hold (connection: Held, closedEarly: { count: number }): () => void {
    this.held.add(connection)
    return () => {
      if (this.held.delete(connection)) closedEarly.count++
    }
  }

  /**
   * Opens the sockets in batches and holds them; the service may refuse them, close them after its
   * header timeout, or keep them. Meanwhile the status page is asked from another address.
   */
  private async idleSockets (signal: AbortSignal): Promise<void> {
    const { counters, findings, ports } = this.options
    const count = idleSocketCount()
    const closedEarly = { count: 0 }
    for (let opened = 0; opened < count && !signal.aborted; opened += CONNECT_BATCH) {
      const batch = Array.from({ length: Math.min(CONNECT_BATCH, count - opened) }, async (_, index) => {
        const localPort = IDLE_FIRST_PORT + opened + index
        return opened + index < IDLE_WEB_SOCKETS ? await this.idleWebSocket(localPort, closedEarly) : await this.idleSocket(ports.http, localPort, closedEarly)
      })
      const outcomes = await Promise.all(batch)
      for (const outcome of outcomes) counters.add(`idle-sockets.${outcome}`)
      if (outcomes.filter((outcome) => outcome === 'local-limit').length > CONNECT_BATCH / 2) {
        findings.note(`idle sockets: this process ran out of file descriptors or ports after ${opened} (not the service's doing)`)
        break
      }
    }
    const probe = await httpGet(`http://127.0.0.1:${ports.http}/api/status`, '127.0.0.1', TIMEOUT_MS).then((answer) => answer.status === 200, () => false)
    counters.add(probe ? 'idle-sockets.status-page-answered' : 'idle-sockets.status-page-unanswered')
    await sleep(IDLE_HOLD_MS, signal)
    counters.add('idle-sockets.closed-by-service', closedEarly.count)
    counters.add('idle-sockets.held-to-the-end', this.held.size)
  }

  private async idleSocket (port: number, localPort: number, closedEarly: { count: number }): Promise<string> {
    const socket = connect({ host: '127.0.0.1', port, localAddress: SOCKETS_ADDRESS, localPort })
    const outcome = await connected(socket)
    if (outcome !== 'connected') return outcome
    socket.once('close', this.hold(socket, closedEarly))
    return outcome
  }

  private async idleWebSocket (localPort: number, closedEarly: { count: number }): Promise<string> {
    try {
      const client = await WebSocketClient.connect('127.0.0.1', this.options.ports.http, '/announce', { address: SOCKETS_ADDRESS, port: localPort }, CONNECT_TIMEOUT_MS)
      client.once('close', this.hold({ destroy: () => { client.close() } }, closedEarly))
      return 'websocket-upgraded'
    } catch (error) {
      return localLimit(error) ? 'local-limit' : 'websocket-refused'
    }
  }

  /** Frames far above any tracker message: the service should close the connection, not buffer them. */
  private async bigFrames (signal: AbortSignal): Promise<void> {
    const { counters } = this.options
    for (let index = 0; index < BIG_FRAMES && !signal.aborted; index++) {
      let client: WebSocketClient
      try {
        client = await WebSocketClient.connect('127.0.0.1', this.options.ports.http, '/announce', { address: SOCKETS_ADDRESS }, CONNECT_TIMEOUT_MS)
      } catch {
        counters.add('big-ws-frames.upgrade-refused')
        continue
      }
      const outcome = new Promise<string>((resolve) => {
        const timer = setTimeout(() => { resolve('ignored') }, 10_000)
        client.once('message', () => { clearTimeout(timer); resolve('answered') })
        client.once('close', () => { clearTimeout(timer); resolve('closed-by-service') })
      })
      const padding = 'x'.repeat(BIG_FRAME_BYTES)
      await client.sendText(`{"action":"announce","info_hash":"${'a'.repeat(20)}","peer_id":"${'b'.repeat(20)}","pad":"${padding}"}`)
      counters.add(`big-ws-frames.${await outcome}`)
      client.close()
    }
  }

  /** 60 peers that handshake and stay silent, 40 that ask for blocks and never read them. */
  private async peers (signal: AbortSignal): Promise<void> {
    const { counters } = this.options
    const target = await this.options.target()
    if (target === undefined) {
      counters.add('peers.no-target')
      return
    }
    const idleClosed = { count: 0 }
    const greedyClosed = { count: 0 }
    const greedy: Socket[] = []
    // Interleaved, so that a cap on connections lets in some of each kind.
    const opened = await Promise.all(Array.from({ length: IDLE_PEERS + GREEDY_PEERS }, async (_, index) => index % 5 < 2
      ? await this.peer(target, true, greedyClosed, greedy)
      : await this.peer(target, false, idleClosed)))
    for (const outcome of opened) counters.add(`peers.${outcome}`)
    const geometry = { pieceLength: target.pieceLength, totalBytes: target.totalBytes }
    for (let round = 0, first = 0; round * REQUEST_ROUND_MS < PEERS_HOLD_MS && !signal.aborted; round++) {
      const count = round === 0 ? FIRST_REQUESTS : REQUESTS_PER_ROUND
      for (const socket of greedy) if (!socket.destroyed) socket.write(requests(geometry, first, count))
      first += count
      await sleep(REQUEST_ROUND_MS, signal)
    }
    counters.add('peers.idle-closed-by-service', idleClosed.count)
    counters.add('peers.greedy-closed-by-service', greedyClosed.count)
    counters.add('peers.held-to-the-end', this.held.size)
  }

  /** Connects and handshakes; a greedy peer then says it is interested and stops reading. */
  private async peer (target: Metainfo, greedy: boolean, dropped: { count: number }, greedySockets: Socket[] = []): Promise<string> {
    const socket = connect({ host: '127.0.0.1', port: this.options.ports.peer, localAddress: PEERS_ADDRESS })
    const outcome = await connected(socket)
    if (outcome !== 'connected') return outcome
    socket.write(Buffer.concat([
      Buffer.from('\x13BitTorrent protocol', 'latin1'), Buffer.alloc(8), Buffer.from(target.infoHash, 'hex'), Buffer.from(`-SK0001-${randomBytes(6).toString('hex')}`, 'latin1')
    ]))
    const answered = await new Promise<boolean>((resolve) => {
      let received = 0
      const timer = setTimeout(() => { resolve(false) }, CONNECT_TIMEOUT_MS)
      socket.on('data', (chunk: Buffer) => {
        received += chunk.length
        if (received < 68) return
        clearTimeout(timer)
        resolve(true)
      })
      socket.once('close', () => { clearTimeout(timer); resolve(false) })
    })
    if (!answered) {
      socket.destroy()
      return 'refused'
    }
    socket.once('close', this.hold(socket, dropped))
    if (greedy) {
      socket.pause()
      socket.write(Buffer.from([0, 0, 0, 1, 2]))
      greedySockets.push(socket)
    }
    return greedy ? 'greedy-handshaken' : 'idle-handshaken'
  }

  /** Random bytes, and packets that look like BEP 15 but are not quite, at the tracker's UDP port. */
  private async udpGarbage (signal: AbortSignal): Promise<void> {
    const { counters, ports } = this.options
    const socket = createSocket('udp4')
    socket.on('error', () => {})
    socket.on('message', () => { counters.add('udp-garbage.answered') })
    await new Promise<void>((resolve) => { socket.bind(0, SOCKETS_ADDRESS, resolve) })
    try {
      for (let sent = 0; sent < GARBAGE_DATAGRAMS && !signal.aborted; sent += 100) {
        for (let index = 0; index < 100; index++) socket.send(garbageDatagram(), ports.tracker, '127.0.0.1')
        counters.add('udp-garbage.sent', 100)
        await sleep(GARBAGE_MS / (GARBAGE_DATAGRAMS / 100), signal)
      }
      await sleep(1000, signal)
    } finally {
      socket.close()
    }
  }

  /** Announces of random infohashes, over HTTP, at a steady rate: each must be refused (published-only). */
  private async infohashFlood (signal: AbortSignal): Promise<void> {
    const { counters, findings, ports } = this.options
    const pauseMs = FLOOD_MS / FLOOD_ANNOUNCES
    for (let index = 0; index < FLOOD_ANNOUNCES && !signal.aborted; index++) {
      const path = announcePath({ infoHash: randomBytes(20), port: randomInt(1024, 65535), left: 1 })
      const port = index % 2 === 0 ? ports.http : ports.tracker
      const outcome = await httpGet(`http://127.0.0.1:${port}${path}`, SOCKETS_ADDRESS, TIMEOUT_MS).then(
        (answer) => answer.status === 200 && !answer.body.includes('failure reason') ? 'answered' : 'refused',
        (error: unknown) => localLimit(error) ? 'local-limit' : 'connection-refused'
      )
      counters.add(`infohash-flood.${outcome}`)
      if (outcome === 'answered') findings.fail('an announce of an infohash the box does not publish was answered in published-only mode (flood)')
      await sleep(pauseMs, signal)
    }
  }
}

/** 'connected', or why not: the service refused or reset it, it timed out, or this process hit its own limits. */
async function connected (socket: Socket): Promise<string> {
  return await new Promise((resolve) => {
    const done = (outcome: string): void => {
      clearTimeout(timer)
      socket.off('connect', onConnect)
      socket.off('error', onError)
      socket.on('error', () => {})
      if (outcome !== 'connected') socket.destroy()
      resolve(outcome)
    }
    const onConnect = (): void => { done('connected') }
    const onError = (error: Error): void => { done(localLimit(error) ? 'local-limit' : 'refused') }
    const timer = setTimeout(() => { done('connect-timeout') }, CONNECT_TIMEOUT_MS)
    socket.once('connect', onConnect)
    socket.once('error', onError)
  })
}

/** This process's own limits (files, ports; a local port some other program listens on), not the service's doing. */
function localLimit (error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code
  return code === 'EMFILE' || code === 'ENFILE' || code === 'EADDRNOTAVAIL' || code === 'EADDRINUSE'
}

/**
 * As many idle sockets as the issue names, but leaving this process 2,000 descriptors for its own
 * work (its limit is raised at start where it may be, see soak.ts).
 */
function idleSocketCount (): number {
  const limit = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1]
  return Math.max(0, Math.min(IDLE_SOCKETS, Number(limit ?? 1024) - 2000))
}

/** BEP 3 `request` messages for consecutive blocks of the torrent, from block `first` on (wrapping). */
function requests (geometry: { pieceLength: number, totalBytes: number }, first: number, count: number): Buffer {
  const blocks = Math.floor(geometry.totalBytes / BLOCK)
  const out = Buffer.alloc(count * 17)
  for (let index = 0; index < count; index++) {
    const offset = ((first + index) % blocks) * BLOCK
    const at = index * 17
    out.writeUInt32BE(13, at)
    out[at + 4] = 6
    out.writeUInt32BE(Math.floor(offset / geometry.pieceLength), at + 5)
    out.writeUInt32BE(offset % geometry.pieceLength, at + 9)
    out.writeUInt32BE(BLOCK, at + 13)
  }
  return out
}

function garbageDatagram (): Buffer {
  switch (randomInt(4)) {
    case 0: return randomBytes(randomInt(0, 1400))
    case 1: {
      // A connect with the wrong protocol id.
      const packet = randomBytes(16)
      packet.writeUInt32BE(0, 8)
      return packet
    }
    case 2: {
      // An announce with a connection id the tracker never gave.
      const packet = randomBytes(98)
      packet.writeUInt32BE(1, 8)
      return packet
    }
    default: {
      // A scrape of far more infohashes than fit an answer.
      const packet = randomBytes(16 + 20 * 70)
      packet.writeUInt32BE(2, 8)
      return packet
    }
  }
}
