// A child process that opens many connections and holds them: the attacker of the hostile-* tests.
// In a process of its own, so that the test runner keeps its own descriptors (one process cannot hold
// more than its open-files limit). Prints JSON lines: {"event":"holding", ...} once every connection
// was tried, then the same counts every second until killed.
//
// usage: node socket-holder.js '{"host":"127.0.0.1","port":8080,"localAddress":"127.0.0.2","count":10000,"kind":"http"}'
import { connect, type Socket } from 'node:net'

interface HolderOptions {
  readonly host: string
  readonly port: number
  readonly localAddress: string
  readonly count: number
  /** `http`: connect and send nothing; `ws`: send a WebSocket upgrade request for /announce, then nothing. */
  readonly kind: 'http' | 'ws'
  /** Connections being opened at once. */
  readonly concurrency?: number
}

const options = JSON.parse(process.argv[2] ?? '{}') as HolderOptions
/** A loaded server's listen backlog overflows: the kernel drops SYNs and the client retries them for a while. */
const CONNECT_TIMEOUT_MS = 60_000
/** Tries per connection: one the server never let connect (or reset before it did) is tried again. */
const ATTEMPTS = 5
const counts = { tried: 0, connected: 0, failed: 0, closedByServer: 0, upgraded: 0 }
const held = new Set<Socket>()

const UPGRADE = `GET /announce HTTP/1.1\r\nHost: ${options.host}:${options.port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
  'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n'

async function openOne (): Promise<void> {
  counts.tried++
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    if (await attemptOne()) return
  }
  counts.failed++
}

/** Resolves true once connected, false if the connection failed first. */
async function attemptOne (): Promise<boolean> {
  return await new Promise<boolean>((resolve) => {
    const socket = connect({ host: options.host, port: options.port, localAddress: options.localAddress, allowHalfOpen: true })
    const timer = setTimeout(() => { socket.destroy(new Error('connect timeout')) }, CONNECT_TIMEOUT_MS)
    let connected = false
    socket.once('connect', () => {
      clearTimeout(timer)
      connected = true
      counts.connected++
      held.add(socket)
      if (options.kind === 'ws') socket.write(UPGRADE)
      resolve(true)
    })
    socket.on('data', (chunk: Buffer) => { if (chunk.toString('latin1').startsWith('HTTP/1.1 101')) counts.upgraded++ })
    // Closed (FIN or reset) by the server: what a bounded server does. This side never closes one.
    let ended = false
    const closedByServer = (): void => {
      if (!connected || ended) return
      ended = true
      counts.closedByServer++
    }
    socket.once('end', closedByServer)
    socket.once('close', closedByServer)
    socket.on('error', () => {
      if (connected) return
      clearTimeout(timer)
      resolve(false)
    })
  })
}

function report (event: string): void {
  const open = [...held].filter((socket) => !socket.destroyed && !socket.readableEnded).length
  process.stdout.write(`${JSON.stringify({ event, ...counts, open })}\n`)
}

async function main (): Promise<void> {
  process.stdout.on('error', () => { process.exit(0) }) // the test went away
  const workers = Array.from({ length: options.concurrency ?? 200 }, async () => {
    while (counts.tried < options.count) await openOne()
  })
  await Promise.all(workers)
  report('holding')
  setInterval(() => { report('status') }, 1000)
}

void main()
