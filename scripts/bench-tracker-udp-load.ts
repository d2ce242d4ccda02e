/**
 * bench-tracker's BEP 15 load generator, one process of several (bench-tracker.ts starts them): UDP
 * sockets bound to source addresses of its own on loopback, each connected once (and again every
 * 50 s, as a connection id is good for a minute), announcing the peers of its slice of the population.
 *
 * - `rate`: announces at a fixed offered rate for a number of seconds, each sent once (those it was
 *   too late for skipped, see bench-tracker-pace.ts); answers are counted until a second after the last send.
 * - `all`: every peer of the slice announces once, a few in flight per socket, resent until answered
 *   (up to 5 tries), to fill the tracker with a known population.
 *
 * Protocol with the parent: argv[2] is the JSON `LoadConfig`; it prints `{"ready":true}` once every
 * socket has its connection id, starts on a line on stdin, and prints the JSON `LoadResult` last.
 */
import { createSocket, type Socket } from 'node:dgram'
import { readFileSync } from 'node:fs'
import { createInterface } from 'node:readline'
import {
  ACTION_ANNOUNCE, ACTION_CONNECT, ACTION_ERROR, ANNOUNCE_LENGTH, EVENT_NONE, EVENT_STARTED,
  connectionIdOf, encodeConnect, errorMessageOf, responseHead, writeAnnounce
} from './bench-tracker-datagrams.js'
import { udpDrops } from './bench-tracker-figures.js'
import { announcesDue } from './bench-tracker-pace.js'
import { leftOf, peerOfAnnounce, peersOfSlice, portOf, sourceOf, swarmOf, writePeerId, type Population, type Share } from './bench-tracker-population.js'

export interface LoadConfig {
  readonly tracker: { readonly host: string, readonly port: number }
  /** Source addresses, one socket each. */
  readonly sources: readonly string[]
  /** Hex infohashes, one a line: swarm i is line i. */
  readonly hashesFile: string
  readonly population: Population
  readonly slice: number
  readonly slices: number
  readonly mode: 'rate' | 'all'
  /** Announces per second this process offers (`rate`). */
  readonly rate: number
  readonly seconds: number
  readonly numwant: number
}

export interface LoadResult {
  readonly sent: number
  readonly answered: number
  /** Error responses, and the first one's message. */
  readonly errors: number
  readonly firstError?: string
  /** `all`: peers never answered after 5 tries. */
  readonly gaveUp: number
  /** `rate`: announces not sent because the generator was late (see bench-tracker-pace.ts). */
  readonly skipped: number
  /** From the first send to the last (rate) or to the last answer (all). */
  readonly seconds: number
  /** This process's own CPU seconds while it ran the load. */
  readonly cpuSeconds: number
  /** Answers the kernel dropped at this process's sockets (receive buffers full): losses that are not the tracker's. */
  readonly drops: number
}

const RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024
const CONNECT_REFRESH_MS = 50_000
const DRAIN_MS = 1000
const IN_FLIGHT_PER_SOCKET = 8
const RESEND_AFTER_MS = 1000
const TRIES = 5
const TICK_MS = 2
/** Behind by more than this, the generator skips what it missed (100 announces for a process sending 10,000/s). */
const MAX_LATE_MS = 10

interface Source {
  readonly socket: Socket
  connectionId: Buffer | undefined
}

class Generator {
  private readonly sources: Source[] = []
  private readonly hashes: Buffer[]
  private readonly share: Share
  private nextTransaction = 1
  private sent = 0
  private answered = 0
  private errors = 0
  private firstError: string | undefined
  private onAnswer: (transactionId: number) => void = () => {}

  constructor (private readonly config: LoadConfig) {
    this.hashes = readFileSync(config.hashesFile, 'utf8').split('\n').filter((line) => line !== '').map((hex) => Buffer.from(hex, 'hex'))
    this.share = { slice: config.slice, slices: config.slices, sources: config.sources.length }
  }

  async open (): Promise<void> {
    for (const address of this.config.sources) {
      const socket = createSocket({ type: 'udp4', recvBufferSize: RECEIVE_BUFFER_BYTES, sendBufferSize: RECEIVE_BUFFER_BYTES })
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject)
        socket.bind(0, address, () => { socket.off('error', reject); resolve() })
      })
      const source: Source = { socket, connectionId: undefined }
      socket.on('message', (msg) => { this.receive(source, msg) })
      this.sources.push(source)
    }
    await this.connectAll()
  }

  close (): void {
    for (const source of this.sources) source.socket.close()
  }

  /** Connects every socket, resending every 500 ms, for 15 s at most. */
  private async connectAll (): Promise<void> {
    const deadline = Date.now() + 15_000
    for (const source of this.sources) source.connectionId = undefined
    while (this.sources.some((source) => source.connectionId === undefined)) {
      if (Date.now() > deadline) throw new Error(`no connect answer from ${this.config.tracker.host}:${this.config.tracker.port} within 15 s`)
      for (const source of this.sources) {
        if (source.connectionId === undefined) this.send(source, encodeConnect(this.transaction()))
      }
      await sleep(500)
    }
  }

  /** Asks for fresh connection ids; the old ones stay good until the answers replace them. */
  private refreshConnections (): void {
    for (const source of this.sources) this.send(source, encodeConnect(this.transaction()))
  }

  private receive (source: Source, msg: Buffer): void {
    const head = responseHead(msg)
    if (head === undefined) return
    if (head.action === ACTION_ANNOUNCE) {
      this.answered++
      this.onAnswer(head.transactionId)
    } else if (head.action === ACTION_CONNECT) {
      source.connectionId = connectionIdOf(msg)
    } else if (head.action === ACTION_ERROR) {
      this.errors++
      this.firstError ??= errorMessageOf(msg)
    }
  }

  private transaction (): number {
    this.nextTransaction = (this.nextTransaction + 1) >>> 0
    return this.nextTransaction
  }

  private send (source: Source, msg: Buffer): void {
    source.socket.send(msg, this.config.tracker.port, this.config.tracker.host)
  }

  /** Sends the `n`th announce of this slice; returns its transaction id. */
  private announce (n: number, passes: number): number {
    const peer = peerOfAnnounce(n, this.config.population, this.share)
    const source = this.sources[sourceOf(peer, this.share)]!
    const transactionId = this.transaction()
    const msg = writeAnnounce(Buffer.allocUnsafe(ANNOUNCE_LENGTH), {
      connectionId: source.connectionId!,
      transactionId,
      infoHash: this.hashes[swarmOf(peer, this.config.population)]!,
      peerId: writePeerId(Buffer.allocUnsafe(20), peer),
      left: leftOf(peer),
      event: passes === 0 ? EVENT_STARTED : EVENT_NONE,
      numwant: this.config.numwant,
      port: portOf(peer, this.share)
    })
    this.send(source, msg)
    this.sent++
    return transactionId
  }

  async runAtRate (): Promise<LoadResult> {
    const perPass = peersOfSlice(this.config.population, this.share)
    const total = Math.round(this.config.rate * this.config.seconds)
    const refresh = setInterval(() => { this.refreshConnections() }, CONNECT_REFRESH_MS)
    const cpuBefore = process.cpuUsage()
    const started = performance.now()
    try {
      let next = 0
      let skipped = 0
      while (next < total) {
        const due = announcesDue(performance.now() - started, this.config.rate, next, total, MAX_LATE_MS)
        skipped += due.skipped
        for (next = due.from; next < due.until; next++) this.announce(next, Math.floor(next / perPass))
        await sleep(TICK_MS)
      }
      const seconds = (performance.now() - started) / 1000
      await sleep(DRAIN_MS)
      return this.result(seconds, 0, cpuBefore, skipped)
    } finally {
      clearInterval(refresh)
    }
  }

  async runAll (): Promise<LoadResult> {
    const peers = peersOfSlice(this.config.population, this.share)
    const pending = new Map<number, { readonly n: number, readonly at: number, readonly tries: number }>()
    const inFlight = IN_FLIGHT_PER_SOCKET * this.sources.length
    let next = 0
    let gaveUp = 0
    const cpuBefore = process.cpuUsage()
    const started = performance.now()
    const refresh = setInterval(() => { this.refreshConnections() }, CONNECT_REFRESH_MS)
    const sendOne = (n: number, tries: number): void => { pending.set(this.announce(n, 0), { n, at: performance.now(), tries }) }
    let wake: () => void = () => {}
    this.onAnswer = (transactionId) => {
      if (!pending.delete(transactionId)) return
      if (next < peers) sendOne(next++, 1)
      if (pending.size === 0) wake()
    }
    try {
      while (next < peers && pending.size < inFlight) sendOne(next++, 1)
      while (pending.size > 0) {
        await Promise.race([sleep(RESEND_AFTER_MS / 4), new Promise<void>((resolve) => { wake = resolve })])
        const now = performance.now()
        for (const [transactionId, entry] of pending) {
          if (now - entry.at < RESEND_AFTER_MS) continue
          pending.delete(transactionId)
          if (entry.tries < TRIES) sendOne(entry.n, entry.tries + 1)
          else gaveUp++
        }
        while (next < peers && pending.size < inFlight) sendOne(next++, 1)
      }
      return this.result((performance.now() - started) / 1000, gaveUp, cpuBefore)
    } finally {
      clearInterval(refresh)
      this.onAnswer = () => {}
    }
  }

  private result (seconds: number, gaveUp: number, cpuBefore: NodeJS.CpuUsage, skipped = 0): LoadResult {
    const cpu = process.cpuUsage(cpuBefore)
    return {
      sent: this.sent,
      answered: this.answered,
      errors: this.errors,
      ...(this.firstError !== undefined && { firstError: this.firstError }),
      gaveUp,
      skipped,
      seconds,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      drops: udpDrops(readFileSync('/proc/net/udp', 'utf8'), (address) => this.config.sources.includes(address))
    }
  }
}

async function sleep (ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms))
}

async function main (): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '') as LoadConfig
  const generator = new Generator(config)
  try {
    await generator.open()
    process.stdout.write(`${JSON.stringify({ ready: true })}\n`)
    const lines = createInterface({ input: process.stdin })
    await new Promise<void>((resolve) => lines.once('line', () => { resolve() }))
    lines.close()
    const result = config.mode === 'rate' ? await generator.runAtRate() : await generator.runAll()
    process.stdout.write(`${JSON.stringify(result)}\n`)
  } finally {
    generator.close()
  }
}

try {
  await main()
} catch (error) {
  process.stderr.write(`bench-tracker-udp-load: ${error instanceof Error ? error.message : String(error)}\n`)
  process.exitCode = 1
}
