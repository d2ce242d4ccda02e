import { randomBytes } from 'node:crypto'
import { connect, type Socket } from 'node:net'
import Wire from 'bittorrent-protocol'
import type { PublishedTorrent } from '../../appliance/catalog/catalog.js'
import { pieceSize } from '../../appliance/seeder/piece-request.js'

export interface RawMessage {
  readonly id: number
  readonly payload: Buffer
}

/** Message ids of BEP 3 and BEP 6 the tests look for. */
const BLOCK = 16 * 1024

export const MESSAGE = { choke: 0, unchoke: 1, interested: 2, have: 4, bitfield: 5, request: 6, piece: 7, haveAll: 0x0e, reject: 0x10, extended: 20, hashRequest: 21, hashes: 22, hashReject: 23 } as const

/** A peer that writes whatever bytes a test wants, and parses what the seeder answers. */
export class RawPeer {
  readonly socket: Socket
  /** Our local port: how the seeder's events name this peer. */
  readonly port: number
  readonly messages: RawMessage[] = []
  handshake: Buffer | undefined
  /** Resolves when the seeder (or anyone) closed the connection. */
  readonly closed: Promise<void>
  private buffer = Buffer.alloc(0)
  private readonly waiters = new Set<() => void>()

  private constructor (socket: Socket) {
    this.socket = socket
    this.port = socket.localPort!
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()))
    socket.on('error', () => {})
    socket.on('data', (chunk: Buffer) => this.onData(chunk))
    socket.on('close', () => this.notify())
  }

  /** Connects to the seeder on `host` (default 127.0.0.1), from `localAddress` (another loopback address stands for another host). */
  static async connect (port: number, localAddress?: string, host = '127.0.0.1'): Promise<RawPeer> {
    const socket = connect({ host, port, ...(localAddress !== undefined && { localAddress }) })
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve)
      socket.once('error', reject)
    })
    return new RawPeer(socket)
  }

  get isClosed (): boolean {
    return this.socket.destroyed
  }

  write (bytes: Uint8Array): void {
    if (!this.socket.destroyed) this.socket.write(bytes)
  }

  /** `v2`: the BEP 52 bit (reserved byte 7, 0x10). */
  sendHandshake (infoHash: string, options: { fast?: boolean, extended?: boolean, v2?: boolean } = {}): void {
    const reserved = Buffer.alloc(8)
    if (options.extended === true) reserved[5] = 0x10
    if (options.fast === true) reserved[7] = 0x04
    if (options.v2 === true) reserved[7]! |= 0x10
    this.write(Buffer.concat([Buffer.from('\x13BitTorrent protocol', 'latin1'), reserved, Buffer.from(infoHash, 'hex'), Buffer.from('-XX0000-' + randomBytes(6).toString('hex'), 'latin1')]))
  }

  static message (id: number, ...numbers: number[]): Buffer {
    const bytes = Buffer.alloc(5 + 4 * numbers.length)
    bytes.writeUInt32BE(1 + 4 * numbers.length, 0)
    bytes[4] = id
    numbers.forEach((value, index) => bytes.writeUInt32BE(value, 5 + 4 * index))
    return bytes
  }

  sendMessage (id: number, ...numbers: number[]): void {
    this.write(RawPeer.message(id, ...numbers))
  }

  /** Waits until a message matches, or rejects after `timeoutMs` or when the connection closes first. */
  async waitFor (predicate: (message: RawMessage) => boolean, timeoutMs = 15_000): Promise<RawMessage> {
    return await new Promise((resolve, reject) => {
      const check = (): void => {
        const found = this.messages.find(predicate)
        if (found !== undefined) finish(() => resolve(found))
        else if (this.socket.destroyed) finish(() => reject(new Error('the connection closed first')))
      }
      const timer = setTimeout(() => finish(() => reject(new Error('timed out waiting for a message'))), timeoutMs)
      const finish = (settle: () => void): void => {
        clearTimeout(timer)
        this.waiters.delete(check)
        settle()
      }
      this.waiters.add(check)
      check()
    })
  }

  /** True when the seeder closed the connection within `timeoutMs`. */
  async closedWithin (timeoutMs = 15_000): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), timeoutMs) })
    const result = await Promise.race([this.closed.then(() => true), timeout])
    clearTimeout(timer)
    return result
  }

  destroy (): void {
    this.socket.destroy()
  }

  private onData (chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk])
    if (this.handshake === undefined) {
      if (this.buffer.length < 68) return
      this.handshake = this.buffer.subarray(0, 68)
      this.buffer = this.buffer.subarray(68)
    }
    while (this.buffer.length >= 4) {
      const length = this.buffer.readUInt32BE(0)
      if (this.buffer.length < 4 + length) break
      if (length > 0) this.messages.push({ id: this.buffer[4]!, payload: this.buffer.subarray(5, 4 + length) })
      this.buffer = this.buffer.subarray(4 + length)
    }
    this.notify()
  }

  private notify (): void {
    for (const waiter of [...this.waiters]) waiter()
  }
}

/**
 * A well-behaved downloader built on bittorrent-protocol's Wire: requests every block of the torrent,
 * `pipeline` at a time, and returns the content it received.
 */
/** A peer that reads until it is unchoked, then asks for every block of the torrent and never reads its socket again. */
export async function peerThatStopsReading (port: number, torrent: PublishedTorrent): Promise<RawPeer> {
  const peer = await RawPeer.connect(port)
  peer.sendHandshake(torrent.metainfo.infoHash)
  peer.sendMessage(MESSAGE.interested)
  await peer.waitFor((message) => message.id === MESSAGE.unchoke)
  peer.socket.pause()
  const { pieceLength, pieceCount } = torrent.metainfo
  const requests: Buffer[] = []
  for (let index = 0; index < pieceCount; index++) {
    for (let offset = 0; offset < pieceLength; offset += BLOCK) requests.push(RawPeer.message(MESSAGE.request, index, offset, BLOCK))
  }
  peer.write(Buffer.concat(requests))
  return peer
}

/** `infoHash`: the one to handshake (and for MSE, key) with, if not the torrent's (a hybrid's truncated v2 one). */
export async function downloadWithWire (port: number, torrent: PublishedTorrent, pipeline = 16, options: { mse?: boolean, infoHash?: string } = {}): Promise<Buffer> {
  const { metainfo } = torrent
  const infoHash = options.infoHash ?? metainfo.infoHash
  const socket = connect({ host: '127.0.0.1', port })
  // bittorrent-protocol's own MSE, RC4 only (2): a second implementation to check ours against.
  const wire = options.mse === true ? new Wire('tcpOutgoing', 2) : new Wire('tcpOutgoing')
  socket.on('data', (chunk: Buffer) => wire.write(chunk))
  wire.on('data', (chunk) => socket.write(chunk))
  socket.on('error', () => {})
  const content = Buffer.alloc(metainfo.totalBytes)
  const blocks: Array<[number, number, number]> = []
  for (let index = 0; index < metainfo.pieceCount; index++) {
    for (let offset = 0; offset < pieceSize(metainfo, index); offset += 16384) blocks.push([index, offset, Math.min(16384, pieceSize(metainfo, index) - offset)])
  }
  let timer: NodeJS.Timeout | undefined
  try {
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error('the download did not finish within 30 s')), 30_000)
      socket.once('close', () => reject(new Error('the seeder closed the connection')))
      let next = 0
      let done = 0
      const requestMore = (): void => {
        while (next < blocks.length && next - done < pipeline) {
          const [index, offset, length] = blocks[next++]!
          wire.request(index, offset, length, (error, block) => {
            if (error !== null || block === undefined) {
              reject(error ?? new Error('no block'))
              return
            }
            Buffer.from(block).copy(content, index * metainfo.pieceLength + offset)
            done++
            if (done === blocks.length) resolve()
            else requestMore()
          })
        }
      }
      wire.once('unchoke', requestMore)
      const start = (): void => {
        wire.handshake(infoHash, Buffer.from('-WT0000-' + randomBytes(6).toString('hex'), 'latin1'))
        wire.interested()
      }
      if (options.mse === true) {
        // Its handshake may go out only once MSE is done, or it would leave in plaintext.
        wire.once('crypto-handshake', start)
        wire.startEncryption(infoHash)
      } else {
        start()
      }
    })
  } finally {
    clearTimeout(timer)
    socket.destroy()
    wire.destroy()
  }
  return content
}
