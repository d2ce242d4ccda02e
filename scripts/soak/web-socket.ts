/**
 * The few lines of RFC 6455 a WebSocket tracker client needs, on a plain TCP socket (Node 20 has no
 * WebSocket client, and `ws` is only a transitive dependency): the upgrade handshake, masked text
 * frames out, unmasked frames in, pong for ping, and the close frame.
 */
import { createHash, randomBytes } from 'node:crypto'
import { EventEmitter } from 'node:events'
import { connect, type Socket } from 'node:net'

const ACCEPT_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'
const TEXT = 0x1
const CLOSE = 0x8
const PING = 0x9
const PONG = 0xa
/** A server frame larger than this is not a tracker answer: the connection is dropped. */
const MAX_INCOMING = 1024 * 1024

export interface WebSocketEvents {
  message: [text: string]
  /** The connection ended, by either side; `byServer` when the server closed or reset it. */
  close: [byServer: boolean]
}

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

  /** Connects from `local` and upgrades; rejects when refused, reset or answered other than 101. */
  static async connect (host: string, port: number, path: string, local: { address: string, port?: number }, timeoutMs: number): Promise<WebSocketClient> {
    const key = randomBytes(16).toString('base64')
    const socket = connect({ host, port, localAddress: local.address, ...(local.port !== undefined && { localPort: local.port }) })
    return await new Promise((resolve, reject) => {
      let head = Buffer.alloc(0)
      const fail = (error: Error): void => {
        clearTimeout(timer)
        socket.off('data', onData)
        socket.destroy()
        reject(error)
      }
      const timer = setTimeout(() => { fail(new Error('no WebSocket upgrade in time')) }, timeoutMs)
      const onData = (chunk: Buffer): void => {
        head = Buffer.concat([head, chunk])
        const end = head.indexOf('\r\n\r\n')
        if (end < 0) {
          if (head.length > 16 * 1024) fail(new Error('oversized upgrade answer'))
          return
        }
        const text = head.subarray(0, end).toString('latin1')
        const accept = /^sec-websocket-accept:\s*(\S+)/im.exec(text)?.[1]
        const expected = createHash('sha1').update(key + ACCEPT_GUID).digest('base64')
        if (!/^HTTP\/1\.1 101 /.test(text) || accept !== expected) {
          fail(new Error(`no upgrade: ${text.split('\r\n')[0] ?? ''}`))
          return
        }
        clearTimeout(timer)
        socket.off('data', onData)
        socket.off('error', fail)
        socket.off('close', onClose)
        const client = new WebSocketClient(socket)
        resolve(client)
        const rest = head.subarray(end + 4)
        if (rest.length > 0) client.onData(rest)
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
    const length = payload.length
    const header = length < 126 ? Buffer.alloc(2) : length < 65536 ? Buffer.alloc(4) : Buffer.alloc(10)
    header[0] = 0x80 | opcode
    if (length < 126) {
      header[1] = 0x80 | length
    } else if (length < 65536) {
      header[1] = 0x80 | 126
      header.writeUInt16BE(length, 2)
    } else {
      header[1] = 0x80 | 127
      header.writeBigUInt64BE(BigInt(length), 2)
    }
    const mask = randomBytes(4)
    const masked = Buffer.allocUnsafe(length)
    for (let index = 0; index < length; index++) masked[index] = payload[index]! ^ mask[index & 3]!
    await new Promise<void>((resolve) => {
      this.socket.write(Buffer.concat([header, mask, masked]), () => { resolve() })
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
      this.onFrame(frame.fin, frame.opcode, frame.payload)
    }
  }

  private onFrame (fin: boolean, opcode: number, payload: Buffer): void {
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

function readFrame (bytes: Buffer): { fin: boolean, opcode: number, payload: Buffer, size: number } | 'too-large' | undefined {
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
    if (long > BigInt(MAX_INCOMING)) return 'too-large'
    length = Number(long)
    offset = 10
  }
  if (length > MAX_INCOMING) return 'too-large'
  const maskBytes = masked ? 4 : 0
  if (bytes.length < offset + maskBytes + length) return undefined
  let payload = bytes.subarray(offset + maskBytes, offset + maskBytes + length)
  if (masked) {
    const mask = bytes.subarray(offset, offset + 4)
    payload = Buffer.from(payload.map((byte, index) => byte ^ mask[index & 3]!))
  }
  return { fin, opcode, payload, size: offset + maskBytes + length }
}
