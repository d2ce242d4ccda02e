import { spawn } from 'node:child_process'
import { onLines } from '../helpers/line-log.js'
import { createSocket } from 'node:dgram'
import { once } from 'node:events'
import type { ExecutionContext } from 'ava'
import { closeCode, maskedFrameHeader, openWebSocket, udpAnnouncePacket, udpConnect } from '../tracker/tracker-client.js'

// The attacks of the hostile-* tests on a running `evertorrent serve`, and what is measured of it.

export const ATTACKER = '127.0.0.2'
export const MiB = 1024 * 1024

export interface HolderReport {
  readonly tried: number
  readonly connected: number
  readonly failed: number
  readonly closedByServer: number
  readonly upgraded: number
  /** Connections still open at the time of the report. */
  readonly open: number
}

export interface HoldOptions {
  readonly host: string
  readonly port: number
  readonly localAddress: string
  readonly count: number
  readonly kind: 'http' | 'ws'
}

/**
 * Opens `count` connections from a child process (test/serve/socket-holder.ts) and resolves once
 * every one was tried, with the holder's counts; the holder keeps them until the test ends.
 */
export async function holdSockets (t: ExecutionContext, options: HoldOptions): Promise<HolderReport> {
  const child = spawn(process.execPath, [new URL('./socket-holder.js', import.meta.url).pathname, JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(() => { child.kill('SIGKILL') })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
  return await new Promise((resolve, reject) => {
    onLines(child.stdout, (line) => {
      const report = JSON.parse(line) as HolderReport & { event: string }
      if (report.event === 'holding') resolve(report)
    })
    child.once('exit', (code) => { reject(new Error(`the socket holder exited (${String(code)}) before holding: ${stderr}`)) })
  })
}

export interface FrameResult {
  /** The WebSocket close code the server sent, if it sent a close frame. */
  readonly closeCode: number | undefined
  /** Payload bytes written before the server closed the connection. */
  readonly payloadSent: number
  /** True when the server closed the connection; false when it took the whole frame and kept it open. */
  readonly closedByServer: boolean
}

/**
 * One WebSocket on `/announce` that sends one text frame of `frameBytes` (its header first, then the
 * payload 1 MiB at a time), as the testers did with 90 MiB. Resolves once the server closed the
 * connection, or `afterMs` after the whole frame was sent.
 */
export async function sendLargeFrame (host: string, port: number, frameBytes: number, localAddress = ATTACKER, afterMs = 10_000): Promise<FrameResult> {
  const socket = await openWebSocket(host, port, '/announce', localAddress)
  const received: Buffer[] = []
  socket.on('data', (chunk: Buffer) => received.push(chunk))
  socket.on('error', () => {})
  let closed = false
  const closing = new Promise<void>((resolve) => {
    socket.once('close', () => { closed = true; resolve() })
    socket.once('end', () => { closed = true; resolve() })
  })
  const { header, mask } = maskedFrameHeader(frameBytes)
  socket.write(header)
  // Masked as RFC 6455 says, so that the payload is valid text ("aaa…"): a server that buffered the
  // frame would then read it whole, and not close the connection for a bad UTF-8 byte.
  const chunk = Buffer.alloc(MiB, 0x61).map((byte, index) => byte ^ mask[index % 4]!)
  let payloadSent = 0
  while (payloadSent < frameBytes && !closed) {
    const part = chunk.subarray(0, Math.min(MiB, frameBytes - payloadSent))
    payloadSent += part.length
    // once() rejects on 'error' (EPIPE, ECONNRESET once the server closed): that ends the loop too.
    if (!socket.write(part)) await Promise.race([once(socket, 'drain').catch(() => {}), closing])
  }
  await Promise.race([closing, new Promise((resolve) => setTimeout(resolve, afterMs))])
  socket.destroy()
  return { closeCode: closeCode(Buffer.concat(received)), payloadSent, closedByServer: closed }
}

export interface FloodTarget {
  readonly infoHash: Buffer
  /** The peer port announced: with the attacker's address, the peer's key in its swarm. */
  readonly port: number
}

export interface FloodResult {
  /** Announce answers (BEP 15 action 1) and error answers (action 3). */
  readonly answered: number
  readonly errors: number
  /** Datagrams sent again after no answer came (the kernel drops them when a socket's buffer is full). */
  readonly resent: number
}

/**
 * `count` BEP 15 announces from `localAddress`, the `index`-th for `target(index)`, with at most
 * `window` unanswered at a time (unanswered ones are sent again), so every one of them reaches the
 * tracker. Rejects when `stop()` says so (the tracker's process died).
 */
export async function udpAnnounceFlood (host: string, port: number, localAddress: string, count: number, target: (index: number) => FloodTarget, stop: () => string | undefined, window = 256): Promise<FloodResult> {
  const socket = createSocket('udp4')
  await new Promise<void>((resolve) => socket.bind(0, localAddress, resolve))
  let connectionId = await udpConnect(socket, host, port)
  let connectedAt = Date.now()
  const pending = new Map<number, { sentAt: number }>()
  const result = { answered: 0, errors: 0, resent: 0 }
  let next = 0
  const send = (index: number): void => {
    const packet = udpAnnouncePacket(connectionId, { ...target(index), eventId: 2 })
    packet.writeUInt32BE(index, 12) // the transaction id tells the answers apart
    pending.set(index, { sentAt: Date.now() })
    socket.send(packet, port, host)
  }
  try {
    await new Promise<void>((resolve, reject) => {
      const fill = (): void => {
        while (pending.size < window && next < count) send(next++)
        if (pending.size === 0 && next >= count) resolve()
      }
      socket.on('message', (msg: Buffer) => {
        const action = msg.length < 8 ? 0 : msg.readUInt32BE(0)
        if (action === 0) return // a connect answer: udpConnect's
        const index = msg.readUInt32BE(4)
        if (!pending.delete(index)) return
        if (action === 1) result.answered++
        else result.errors++
        fill()
      })
      const timer = setInterval(() => {
        const stopped = stop()
        if (stopped !== undefined) {
          clearInterval(timer)
          reject(new Error(`${stopped} after ${result.answered} announces answered`))
          return
        }
        void (async () => {
          // BEP 15: a connection id is good for a minute or two.
          if (Date.now() - connectedAt > 30_000) {
            connectionId = await udpConnect(socket, host, port).catch(() => connectionId)
            connectedAt = Date.now()
          }
          for (const [index, { sentAt }] of pending) {
            if (Date.now() - sentAt < 2000) continue
            result.resent++
            send(index)
          }
        })()
      }, 500)
      socket.once('close', () => { clearInterval(timer) })
      fill()
    })
  } finally {
    socket.close()
  }
  return result
}
