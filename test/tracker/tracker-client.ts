import bencode from 'bencode'
import { randomBytes } from 'node:crypto'
import { createSocket, type Socket } from 'node:dgram'
import { isIPv6 } from 'node:net'
import type { Duplex } from 'node:stream'
import type { Teardown } from '../helpers/teardown.js'
import { CLOSE, maskedFrame, readFrame, upgradeWebSocket, WebSocketClient } from '../helpers/web-socket.js'
import { httpGet } from '../web/http-client.js'

// A deliberately independent tracker client for the tests (and the scripts' load): packets and URLs
// are written out here by hand from the BEPs, not with the tracker's own encoders.

export { maskedFrameHeader } from '../helpers/web-socket.js'

export function percentEncode (bytes: Buffer): string {
  return [...bytes].map((byte) => `%${byte.toString(16).padStart(2, '0')}`).join('')
}

export interface AnnounceQuery {
  readonly infoHash: Buffer
  readonly peerId?: Buffer
  readonly port: number
  readonly left?: number
  readonly event?: string
  readonly numwant?: number
  readonly compact?: 0 | 1
}

export function announcePath (query: AnnounceQuery): string {
  return `/announce?${announceQuery(query)}`
}

/** The query string of an HTTP announce (BEP 3), without the `?`. */
export function announceQuery (query: AnnounceQuery): string {
  return [
    `info_hash=${percentEncode(query.infoHash)}`,
    `peer_id=${percentEncode(query.peerId ?? randomBytes(20))}`,
    `port=${query.port}`,
    'uploaded=0',
    'downloaded=0',
    `left=${query.left ?? 1000}`,
    ...(query.event === undefined ? [] : [`event=${query.event}`]),
    ...(query.numwant === undefined ? [] : [`numwant=${query.numwant}`]),
    `compact=${query.compact ?? 1}`
  ].join('&')
}

/** A decoded bencoded announce response, peers as `ip:port` strings. */
export interface AnnounceAnswer {
  readonly failure?: string
  readonly complete?: number
  readonly incomplete?: number
  readonly peers: string[]
}

export async function httpAnnounce (host: string, port: number, query: AnnounceQuery, localAddress?: string): Promise<AnnounceAnswer> {
  const result = await httpGet(host, port, announcePath(query), localAddress === undefined ? {} : { localAddress })
  return readAnnounce(result.body)
}

export function readAnnounce (body: Buffer): AnnounceAnswer {
  const decoded = bencode.decode(body)
  if (decoded['failure reason'] !== undefined) return { failure: Buffer.from(decoded['failure reason']).toString(), peers: [] }
  const peers = decoded.peers instanceof Uint8Array
    ? [...readCompact(Buffer.from(decoded.peers), 4), ...readCompact(Buffer.from(decoded.peers6 ?? new Uint8Array()), 6)]
    : (decoded.peers as Array<{ ip: Uint8Array, port: number }>).map((peer) => formatPeer(Buffer.from(peer.ip).toString(), peer.port))
  return { complete: decoded.complete, incomplete: decoded.incomplete, peers }
}

export function readCompact (bytes: Buffer, family: 4 | 6): string[] {
  const size = family === 4 ? 6 : 18
  const peers: string[] = []
  for (let offset = 0; offset + size <= bytes.length; offset += size) {
    const address = family === 4
      ? [...bytes.subarray(offset, offset + 4)].join('.')
      : Array.from({ length: 8 }, (_, group) => bytes.readUInt16BE(offset + group * 2).toString(16)).join(':')
    // The URL parser writes IPv6 addresses in their canonical compressed form.
    const ip = family === 4 ? address : new URL(`http://[${address}]/`).hostname.slice(1, -1)
    peers.push(formatPeer(ip, bytes.readUInt16BE(offset + size - 2)))
  }
  return peers
}

export function formatPeer (ip: string, port: number): string {
  return isIPv6(ip) ? `[${ip}]:${port}` : `${ip}:${port}`
}

/** A UDP client socket bound to `localAddress`, closed when the test ends. */
export async function udpClient (t: Teardown, localAddress: string): Promise<Socket> {
  const socket = createSocket(isIPv6(localAddress) ? 'udp6' : 'udp4')
  await new Promise<void>((resolve) => socket.bind(0, localAddress, resolve))
  t.teardown(() => { socket.close() })
  return socket
}

/** Sends one datagram and waits for the next one back; rejects after `timeoutMs` of silence. */
export async function udpExchange (socket: Socket, packet: Buffer, host: string, port: number, timeoutMs = 2000): Promise<Buffer> {
  return await new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off('message', onMessage)
      reject(new Error(`no UDP answer from ${host}:${port} within ${timeoutMs} ms`))
    }, timeoutMs)
    const onMessage = (msg: Buffer): void => {
      clearTimeout(timer)
      resolve(msg)
    }
    socket.once('message', onMessage)
    socket.send(packet, port, host)
  })
}

/** BEP 15 connect request: the protocol id, action 0, transaction id 0x1234. */
export function udpConnectPacket (): Buffer {
  const packet = Buffer.alloc(16)
  packet.writeBigUInt64BE(0x41727101980n, 0)
  packet.writeUInt32BE(0, 8)
  packet.writeUInt32BE(0x1234, 12)
  return packet
}

/** BEP 15 connect; returns the connection id. */
export async function udpConnect (socket: Socket, host: string, port: number): Promise<Buffer> {
  const answer = await udpExchange(socket, udpConnectPacket(), host, port)
  if (answer.length !== 16 || answer.readUInt32BE(0) !== 0 || answer.readUInt32BE(4) !== 0x1234) throw new Error(`bad connect answer ${answer.toString('hex')}`)
  return answer.subarray(8, 16)
}

export interface UdpAnnounceAnswer {
  readonly action: number
  readonly error?: string
  readonly seeders?: number
  readonly leechers?: number
  readonly peers: string[]
}

export function udpAnnouncePacket (connectionId: Buffer, query: AnnounceQuery & { eventId?: number }): Buffer {
  const packet = Buffer.alloc(98)
  connectionId.copy(packet, 0)
  packet.writeUInt32BE(1, 8)
  packet.writeUInt32BE(0x5678, 12)
  query.infoHash.copy(packet, 16)
  ;(query.peerId ?? randomBytes(20)).copy(packet, 36)
  packet.writeBigUInt64BE(BigInt(query.left ?? 1000), 64)
  packet.writeUInt32BE(query.eventId ?? 2, 80)
  packet.writeInt32BE(query.numwant ?? -1, 92)
  packet.writeUInt16BE(query.port, 96)
  return packet
}

/** BEP 15 connect + announce from `socket`; peers are read in the socket's own family. */
export async function udpAnnounce (socket: Socket, host: string, port: number, query: AnnounceQuery & { eventId?: number }): Promise<UdpAnnounceAnswer> {
  const connectionId = await udpConnect(socket, host, port)
  const answer = await udpExchange(socket, udpAnnouncePacket(connectionId, query), host, port)
  const action = answer.readUInt32BE(0)
  if (answer.readUInt32BE(4) !== 0x5678) throw new Error('wrong transaction id')
  if (action === 3) return { action, error: answer.subarray(8).toString(), peers: [] }
  const family = socket.address().family === 'IPv6' ? 6 : 4
  return { action, leechers: answer.readUInt32BE(12), seeders: answer.readUInt32BE(16), peers: readCompact(answer.subarray(20), family) }
}

/** BEP 15 connect + scrape: [seeders, completed, leechers] per infohash. */
export async function udpScrape (socket: Socket, host: string, port: number, infoHashes: Buffer[]): Promise<number[][]> {
  const connectionId = await udpConnect(socket, host, port)
  const head = Buffer.alloc(16)
  connectionId.copy(head, 0)
  head.writeUInt32BE(2, 8)
  head.writeUInt32BE(0x9abc, 12)
  const answer = await udpExchange(socket, Buffer.concat([head, ...infoHashes]), host, port)
  if (answer.readUInt32BE(0) !== 2) throw new Error(`not a scrape answer: ${answer.toString('hex')}`)
  return infoHashes.map((_, index) => [0, 4, 8].map((field) => answer.readUInt32BE(8 + index * 12 + field)))
}

/** A one-message WebSocket exchange: upgrades, sends `message` as JSON, resolves with the first message back, parsed. */
export async function webSocketExchange (host: string, port: number, path: string, message: unknown): Promise<unknown> {
  const client = await WebSocketClient.connect(host, port, path, {}, 10_000)
  try {
    const answer = new Promise<string>((resolve, reject) => {
      client.once('message', resolve)
      client.once('close', () => { reject(new Error('the server closed the WebSocket without answering')) })
    })
    await client.sendText(JSON.stringify(message))
    return JSON.parse(await answer)
  } finally {
    client.close()
  }
}

/** A WebSocket upgraded on `path`, as its raw socket: the caller writes frames (see `maskedFrameHeader`). */
export async function openWebSocket (host: string, port: number, path: string, localAddress?: string): Promise<Duplex> {
  return (await upgradeWebSocket(host, port, path, localAddress === undefined ? {} : { address: localAddress })).socket
}

/** `text` as one masked text frame. */
export function maskedTextFrame (text: string): Buffer {
  return maskedFrame(Buffer.from(text))
}

/** Resolves with everything the server sent once it closed `socket`; rejects if it stays open `withinMs`. */
export async function serverClose (socket: Duplex, withinMs: number): Promise<Buffer> {
  const chunks: Buffer[] = []
  socket.on('data', (chunk: Buffer) => chunks.push(chunk))
  socket.on('error', () => {})
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error(`the server left the WebSocket open for ${withinMs} ms`)) }, withinMs)
    const done = (): void => { clearTimeout(timer); resolve() }
    socket.once('end', done)
    socket.once('close', done)
  })
  return Buffer.concat(chunks)
}

/** The status code of the first close frame among unmasked server frames, if any. */
export function closeCode (received: Buffer): number | undefined {
  for (let rest = received; ;) {
    const frame = readFrame(rest, Number.MAX_SAFE_INTEGER)
    if (frame === undefined || frame === 'too-large') return undefined
    if (frame.opcode === CLOSE) return frame.payload.length >= 2 ? frame.payload.readUInt16BE(0) : undefined
    rest = rest.subarray(frame.size)
  }
}
