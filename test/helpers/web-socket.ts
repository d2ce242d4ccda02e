/**
 * The few lines of RFC 6455 a WebSocket tracker client needs, on a plain TCP socket (Node 20 has no
 * WebSocket client, and `ws` is only a transitive dependency): the upgrade handshake, masked frames
 * out, frames in, pong for ping, and the close frame. The tests' client and the soak's.
 */
import { createHash, randomBytes } from 'node:crypto'
import { EventEmitter } from 'node:events'
import { connect, type Socket } from 'node:net'

const ACCEPT_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'
export const TEXT = 0x1
export const CLOSE = 0x8
const PING = 0x9
const PONG = 0xa
/** A server frame larger than this is not a tracker answer: the client drops the connection. */
const MAX_INCOMING = 1024 * 1024
/** An upgrade answer longer than this is not one. */
const MAX_HEAD = 16 * 1024

/** Where a client socket comes from: another host is another loopback address. */
export interface LocalEnd {
  readonly address?: string
  readonly port?: number
}

/**
 * Connects and upgrades; resolves with the socket, on which frames can be written at once, and the
 * bytes that came after the server's headers. Rejects when refused, reset, answered other than 101
 * with the right Sec-WebSocket-Accept, or not upgraded within `timeoutMs`.
 */
export async function upgradeWebSocket (host: string, port: number, path: string, local: LocalEnd = {}, timeoutMs = 10_000): Promise<{ socket: Socket, rest: Buffer }> {
  const key = randomBytes(16).toString('base64')
  const socket = connect({ host, port, ...(local.address !== undefined && { localAddress: local.address }), ...(local.port !== undefined && { localPort: local.port }) })
  return await new Promise((resolve, reject) => {
    let head = Buffer.alloc(0)
    const detach = (): void => {
      clearTimeout(timer)
      socket.off('data', onData)
      socket.off('error', fail)
      socket.off('close', onClose)
    }
    const fail = (error: Error): void => {
      detach()
      socket.destroy()
      reject(error)
    }
    const timer = setTimeout(() => { fail(new Error('no WebSocket upgrade in time')) }, timeoutMs)
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk])
      const end = head.indexOf('\r\n\r\n')
      if (end < 0) {
        if (head.length > MAX_HEAD) fail(new Error('oversized upgrade answer'))
        return
      }
      const text = head.subarray(0, end).toString('latin1')
      const accept = /^sec-websocket-accept:\s*(\S+)/im.exec(text)?.[1]
      const expected = createHash('sha1').update(key + ACCEPT_GUID).digest('base64')
      if (!/^HTTP\/1\.1 101 /.test(text) || accept !== expected) {
        fail(new Error(`no upgrade: ${text.split('\r\n')[0] ?? ''}`))
        return
      }
      detach()
      resolve({ socket, rest: head.subarray(end + 4) })
    }
    const onClose = (): void => { fail(new Error('closed before the upgrade')) }
    socket.on('data', onData)
    socket.once('error', fail)
    socket.once('close', onClose)
    socket.once('connect', () => {
      socket.write(`GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`)
    })
  })
}

/**
 * The header of a final, masked frame (RFC 6455 5.2) announcing `length` payload bytes, and its mask:
 * the payload that follows must be XORed with it, `payload[i] ^ mask[i % 4]`.
 */
export function maskedFrameHeader (length: number, opcode = TEXT): { header: Buffer, mask: Buffer } {
  const mask = randomBytes(4)
  let lengthBytes: Buffer
  if (length < 126) lengthBytes = Buffer.from([0x80 | length])
  else if (length < 65536) lengthBytes = Buffer.from([0x80 | 126, length >> 8, length & 0xff])
  else {
    lengthBytes = Buffer.alloc(9)
    lengthBytes[0] = 0x80 | 127
    lengthBytes.writeBigUInt64BE(BigInt(length), 1)
  }
  return { header: Buffer.concat([Buffer.from([0x80 | opcode]), lengthBytes, mask]), mask }
}

/** `payload` as one final, masked frame. */
export function maskedFrame (payload: Uint8Array, opcode = TEXT): Buffer {
  const { header, mask } = maskedFrameHeader(payload.length, opcode)
  return Buffer.concat([header, payload.map((byte, index) => byte ^ mask[index & 3]!)])
}

export interface Frame {
  readonly fin: boolean
  readonly opcode: number
  readonly payload: Buffer
  /** Bytes of `bytes` the frame takes, header included. */
  readonly size: number
}

/** The frame at the start of `bytes`; undefined until it is all there, 'too-large' past `maxPayload`. */
export function readFrame (bytes: Buffer, maxPayload = MAX_INCOMING): Frame | 'too-large' | undefined {
  if (bytes.length < 2) return undefined
  const fin = (bytes[0]! & 0x80) !== 0
  const opcode = bytes[0]! & 0x0f
  const masked = (bytes[1]! & 0x80) !== 0
  let length = bytes[1]! & 0x7f
  let offset = 2
  if (length === 126) {
    if (bytes.length < 4) return undefined
    length = bytes.readUInt16BE(2)
    offset = 4
  } else if (length === 127) {
    if (bytes.length < 10) return undefined
    const long = bytes.readBigUInt64BE(2)
    if (long > BigInt(maxPayload)) return 'too-large'
    length = Number(long)
    offset = 10
  }
  if (length > maxPayload) return 'too-large'
  const maskBytes = masked ? 4 : 0
  if (bytes.length < offset + maskBytes + length) return undefined
  let payload = bytes.subarray(offset + maskBytes, offset + maskBytes + length)
  if (masked) {
    const mask = bytes.subarray(offset, offset + 4)
    payload = Buffer.from(payload.map((byte, index) => byte ^ mask[index & 3]!))
  }
  return { fin, opcode, payload, size: offset + maskBytes + length }
}

export interface WebSocketEvents {
  message: [text: string]
  /** The connection ended, by either side; `byServer` when the server closed or reset it. */
  close: [byServer: boolean]
}

/** A WebSocket client that sends text messages and hands over the server's, whole. */
export class WebSocketClient extends EventEmitter<WebSocketEvents> {
  private received: Buffer = Buffer.alloc(0)
  private closedByUs = false
  private fragments: Buffer[] = []

  private constructor (private readonly socket: Socket) {
    super()
    socket.on('data', (chunk: Buffer) => { this.onData(chunk) })
    socket.once('close', () => { this.emit('close', !this.closedByUs) })
    socket.on('error', () => {})
  }

  /** Connects from `local` and upgrades (see `upgradeWebSocket`). */
  static async connect (host: string, port: number, path: string, local: LocalEnd, timeoutMs: number): Promise<WebSocketClient> {
    const { socket, rest } = await upgradeWebSocket(host, port, path, local, timeoutMs)
    const client = new WebSocketClient(socket)
    if (rest.length > 0) client.onData(rest)
    return client
  }

  get open (): boolean {
    return !this.socket.destroyed
  }

  /** One masked text frame, of any size; resolves once the kernel has taken it (or the socket is gone). */
  async sendText (text: string | Buffer): Promise<void> {
    await this.sendFrame(TEXT, Buffer.isBuffer(text) ? text : Buffer.from(text))
  }

  close (): void {
    this.closedByUs = true
    this.socket.destroy()
  }

  private async sendFrame (opcode: number, payload: Buffer): Promise<void> {
    if (this.socket.destroyed) return
    await new Promise<void>((resolve) => {
      this.socket.write(maskedFrame(payload, opcode), () => { resolve() })
    })
  }

  private onData (chunk: Buffer): void {
    this.received = this.received.length === 0 ? chunk : Buffer.concat([this.received, chunk])
    for (;;) {
      const frame = readFrame(this.received)
      if (frame === undefined) return
      if (frame === 'too-large') {
        this.close()
        return
      }
      this.received = this.received.subarray(frame.size)
      this.onFrame(frame)
    }
  }

  private onFrame ({ fin, opcode, payload }: Frame): void {
    if (opcode === PING) {
      void this.sendFrame(PONG, payload)
      return
    }
    if (opcode === CLOSE) {
      this.socket.destroy()
      return
    }
    if (opcode === PONG) return
    this.fragments.push(payload)
    if (!fin) return
    const message = Buffer.concat(this.fragments).toString('utf8')
    this.fragments = []
    this.emit('message', message)
  }
}
