/**
 * bench-tracker's keep-alive HTTP announce generator, one process of several (bench-tracker.ts starts
 * them): `connections` sockets, each with one announce in flight at a time (a closed loop, as wrk's),
 * announcing the peers of its slice of the population (the same announces as bench-tracker.lua).
 *
 * It measures the tracker's steady state, not how it takes a burst of new connections: it first opens
 * every connection and has one announce answered on each, uncounted, and only then, on a line on
 * stdin, runs for `seconds`. (Node's libuv accepts one connection per event-loop turn, so a burst of
 * 100 connections to a loaded Node server waits up to hundreds of ms for its first answer; wrk counts
 * that in, then multiplies it by its coordinated-omission correction: see `correctForOmission`.)
 *
 * A tracker that closes the connection after answering (bookworm's opentracker) gets a new connection
 * per announce, and the latency then includes connecting, as wrk's does.
 *
 * Protocol with the parent: argv[2] is the JSON `HttpLoadConfig`; it prints `{"ready":true}` once
 * every connection had its first answer, starts on a line on stdin, and prints the `HttpLoadResult` last.
 */
import { connect, type Socket } from 'node:net'
import { readFileSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { LatencyHistogram } from './bench-tracker-latency.js'
import { leftOf, peerOfAnnounce, peersOfSlice, swarmOf, type Population, type Share } from './bench-tracker-population.js'

export interface HttpLoadConfig {
  readonly tracker: { readonly host: string, readonly port: number }
  readonly connections: number
  /** Hex infohashes, one a line: swarm i is line i. */
  readonly hashesFile: string
  readonly population: Population
  readonly slice: number
  readonly slices: number
  readonly seconds: number
  readonly numwant: number
}

export interface HttpLoadResult {
  /** Announces answered while measuring. */
  readonly requests: number
  /** Answers that were not a 200 with peers, and connections lost before an answer. */
  readonly failures: number
  /** Connections opened while measuring (0 for a tracker that keeps them alive). */
  readonly reconnects: number
  readonly seconds: number
  /** Latency histogram, `LatencyHistogram.toJSON`. */
  readonly latency: Record<string, number>
}

const WARM_UP_TIMEOUT_MS = 30_000
const HEADER_END = Buffer.from('\r\n\r\n')

/** One connection's loop: send, read the whole answer, send the next. */
class Connection {
  private socket: Socket | undefined
  private received: Buffer[] = []
  private receivedBytes = 0
  private sentAt = 0
  private request: Buffer | undefined
  /** Answers this socket gave: one that closes after answering (opentracker) is not a failure. */
  private answersOnSocket = 0

  constructor (
    private readonly config: HttpLoadConfig,
    private readonly onAnswer: (connection: Connection, latencyUs: number, ok: boolean) => void,
    /** `failed`: the announce was lost; otherwise the tracker closed a connection it had answered on, and the announce is sent again. */
    private readonly onLost: (connection: Connection, failed: boolean) => void
  ) {}

  /** Sends `request`, opening a connection first if there is none. */
  send (request: Buffer, reconnected: () => void): void {
    this.request = request
    this.sentAt = performance.now()
    if (this.socket === undefined) {
      reconnected()
      this.open()
    }
    this.socket!.write(request)
  }

  close (): void {
    this.socket?.destroy()
    this.socket = undefined
  }

  private open (): void {
    const socket = connect(this.config.tracker.port, this.config.tracker.host)
    socket.setNoDelay(true)
    this.socket = socket
    this.received = []
    this.receivedBytes = 0
    this.answersOnSocket = 0
    socket.on('data', (chunk: Buffer) => { this.receive(chunk) })
    socket.on('error', () => {})
    socket.on('close', () => {
      if (this.socket !== socket) return
      this.socket = undefined
      // Closed after its answer: the next send reconnects. Closed with an announce written after an
      // answer and nothing of its own answer read: the tracker closed it after that answer (and this
      // side wrote before it saw the close); the announce is sent again. Otherwise it is lost.
      if (this.request !== undefined) this.onLost(this, this.answersOnSocket === 0 || this.receivedBytes > 0)
    })
  }

  private receive (chunk: Buffer): void {
    this.received.push(chunk)
    this.receivedBytes += chunk.length
    const data = this.received.length === 1 ? this.received[0]! : Buffer.concat(this.received, this.receivedBytes)
    this.received = [data]
    const headerEnd = data.indexOf(HEADER_END)
    if (headerEnd < 0) return
    const head = data.toString('latin1', 0, headerEnd)
    const length = /\r\ncontent-length:\s*(\d+)/i.exec(head)
    if (length === null) return this.fail()
    const total = headerEnd + HEADER_END.length + Number(length[1])
    if (data.length < total) return
    const body = data.subarray(headerEnd + HEADER_END.length, total)
    const ok = head.startsWith('HTTP/1.1 200') && !body.includes('failure reason')
    this.received = data.length > total ? [data.subarray(total)] : []
    this.receivedBytes = data.length - total
    this.request = undefined
    this.answersOnSocket++
    this.onAnswer(this, (performance.now() - this.sentAt) * 1000, ok)
  }

  private fail (): void {
    this.close()
    this.onLost(this, true)
  }
}

class Generator {
  private readonly hashes: string[]
  private readonly share: Share
  private readonly perPass: number
  private readonly connections: Connection[] = []
  private next = 0
  private measuring = false
  private stopped = false
  private requests = 0
  private failures = 0
  private reconnects = 0
  private readonly histogram = new LatencyHistogram()
  private warmed = new Set<Connection>()
  private onWarm: () => void = () => {}

  constructor (private readonly config: HttpLoadConfig) {
    this.hashes = readFileSync(config.hashesFile, 'utf8').split('\n').filter((line) => line.length === 40)
      .map((hex) => hex.replace(/../g, (byte) => `%${byte}`))
    this.share = { slice: config.slice, slices: config.slices, sources: 1 }
    this.perPass = peersOfSlice(config.population, this.share)
  }

  /** Opens every connection and waits for one answer on each. */
  async warmUp (): Promise<void> {
    const warm = new Promise<void>((resolve) => { this.onWarm = resolve })
    for (let index = 0; index < this.config.connections; index++) {
      const connection = new Connection(this.config, (c, latencyUs, ok) => { this.answered(c, latencyUs, ok) }, (c, failed) => { this.lost(c, failed) })
      this.connections.push(connection)
      this.sendNext(connection)
    }
    let timer: NodeJS.Timeout | undefined
    try {
      await Promise.race([warm, new Promise((_resolve, reject) => {
        timer = setTimeout(() => { reject(new Error(`${this.warmed.size} of ${this.config.connections} connections answered within ${WARM_UP_TIMEOUT_MS / 1000} s`)) }, WARM_UP_TIMEOUT_MS)
      })])
    } finally {
      clearTimeout(timer)
    }
  }

  async run (): Promise<HttpLoadResult> {
    // Every connection had its warm-up answer and waits: start them all together.
    this.measuring = true
    const started = performance.now()
    for (const connection of this.connections) this.sendNext(connection)
    await new Promise((resolve) => setTimeout(resolve, this.config.seconds * 1000))
    this.stopped = true
    const seconds = (performance.now() - started) / 1000
    for (const connection of this.connections) connection.close()
    return { requests: this.requests, failures: this.failures, reconnects: this.reconnects, seconds, latency: this.histogram.toJSON() }
  }

  private answered (connection: Connection, latencyUs: number, ok: boolean): void {
    if (!this.measuring) {
      this.warmed.add(connection)
      if (this.warmed.size === this.connections.length) this.onWarm()
      return
    }
    if (this.stopped) return
    this.requests++
    if (!ok) this.failures++
    this.histogram.record(latencyUs)
    this.sendNext(connection)
  }

  private lost (connection: Connection, failed: boolean): void {
    if (this.stopped) return
    if (this.measuring && failed) this.failures++
    this.sendNext(connection)
  }

  private sendNext (connection: Connection): void {
    const n = this.next++
    const peer = peerOfAnnounce(n, this.config.population, this.share)
    const started = n < this.perPass ? '&event=started' : ''
    const path = `/announce?info_hash=${this.hashes[swarmOf(peer, this.config.population)]}&peer_id=-EB0001-${String(peer).padStart(12, '0')}` +
      `&port=${1024 + (peer % 64_000)}&uploaded=0&downloaded=0&left=${leftOf(peer)}&compact=1&numwant=${this.config.numwant}${started}`
    const request = Buffer.from(`GET ${path} HTTP/1.1\r\nHost: ${this.config.tracker.host}:${this.config.tracker.port}\r\n\r\n`, 'latin1')
    connection.send(request, () => { if (this.measuring) this.reconnects++ })
  }
}

async function main (): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '') as HttpLoadConfig
  const generator = new Generator(config)
  await generator.warmUp()
  process.stdout.write(`${JSON.stringify({ ready: true })}\n`)
  const lines = createInterface({ input: process.stdin })
  await new Promise<void>((resolve) => lines.once('line', () => { resolve() }))
  lines.close()
  process.stdout.write(`${JSON.stringify(await generator.run())}\n`)
}

try {
  await main()
} catch (error) {
  process.stderr.write(`bench-tracker-http-load: ${error instanceof Error ? error.message : String(error)}\n`)
  process.exitCode = 1
}
