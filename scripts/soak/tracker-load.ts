/**
 * The tracker's steady load: HTTP announces and scrapes, UDP announces (BEP 15 connect + announce)
 * and a few WebSocket clients announcing every few seconds, at modest rates, from fake peers at
 * 127.0.0.4–127.0.0.9. One announce in ten names an infohash the box does not publish: in its
 * published-only mode (the default, and the soak's) it must be refused, never tracked.
 */
import bencode from 'bencode'
import { randomBytes, randomInt } from 'node:crypto'
import { createSocket, type Socket } from 'node:dgram'
import type { ServePorts } from '../../test/helpers/serve-process.js'
import { WebSocketClient } from '../../test/helpers/web-socket.js'
import { announcePath, percentEncode, udpAnnouncePacket, udpConnectPacket } from '../../test/tracker/tracker-client.js'
import type { Counters, Findings } from './counters.js'
import { httpGet } from './http-get.js'
import { errorText, paced, sleep } from './pace.js'

const FAKE_PEER_ADDRESSES = ['127.0.0.4', '127.0.0.5', '127.0.0.6', '127.0.0.7', '127.0.0.8', '127.0.0.9']
const FAKE_PEERS = 48
const HTTP_ANNOUNCE_MS = 250
const UDP_ANNOUNCE_MS = 250
const SCRAPE_MS = 1000
const WS_CLIENTS = 4
const WS_ANNOUNCE_MS = 3000
const UNKNOWN_SHARE = 0.1
const TIMEOUT_MS = 5000
/** BEP 15: a connection id is good for two minutes; clients keep it one. */
const UDP_CONNECTION_MS = 60_000

interface FakePeer {
  readonly address: string
  readonly peerId: Buffer
  readonly port: number
  /** A third are leechers (the everseed dials them; nothing listens there, as behind a NAT), the rest seeders. */
  readonly left: number
}

type Transport = 'http' | 'udp' | 'ws'

export interface TrackerLoadOptions {
  readonly ports: ServePorts
  readonly counters: Counters
  readonly findings: Findings
  /** The infohashes the box publishes now. */
  readonly published: () => readonly string[]
}

export class TrackerLoad {
  private readonly abort = new AbortController()
  private readonly peers: FakePeer[]
  private readonly udp = new Map<string, UdpClient>()
  private readonly webSockets = new Set<WebSocketClient>()
  private loops: Array<Promise<void>> = []

  constructor (private readonly options: TrackerLoadOptions) {
    this.peers = Array.from({ length: FAKE_PEERS }, (_, index) => ({
      address: FAKE_PEER_ADDRESSES[index % FAKE_PEER_ADDRESSES.length]!,
      peerId: Buffer.concat([Buffer.from('-SK0001-'), randomBytes(12)]),
      port: 20_000 + index,
      left: index % 3 === 0 ? 1_000_000 : 0
    }))
  }

  start (): void {
    const { signal } = this.abort
    const onError = (what: string) => (error: unknown): void => {
      this.options.counters.add(`${what}.error`)
      this.options.findings.note(`${what}: ${errorText(error)}`)
    }
    this.loops = [
      paced(signal, HTTP_ANNOUNCE_MS, async () => { await this.httpAnnounce() }, onError('http')),
      paced(signal, UDP_ANNOUNCE_MS, async () => { await this.udpAnnounce() }, onError('udp')),
      paced(signal, SCRAPE_MS, async () => { await this.scrape() }, onError('scrape')),
      ...Array.from({ length: WS_CLIENTS }, async (_, index) => { await this.webSocketClient(FAKE_PEER_ADDRESSES[index]!, index) })
    ]
  }

  async stop (): Promise<void> {
    this.abort.abort()
    for (const client of this.webSockets) client.close()
    await Promise.all(this.loops)
    for (const client of this.udp.values()) client.close()
  }

  /** A published infohash, or (one time in ten, or when nothing is published) one the box does not know. */
  private pickInfoHash (): { infoHash: Buffer, unknown: boolean } {
    const published = this.options.published()
    if (published.length === 0 || Math.random() < UNKNOWN_SHARE) return { infoHash: randomBytes(20), unknown: true }
    return { infoHash: Buffer.from(published[randomInt(published.length)]!, 'hex'), unknown: false }
  }

  private pickPeer (): FakePeer {
    return this.peers[randomInt(this.peers.length)]!
  }

  /** Counts an answer: `ok`, or `refused` with its reason; an unknown infohash answered is a failure of published-only mode. */
  private count (transport: Transport, unknown: boolean, failure: string | undefined): void {
    const { counters, findings } = this.options
    if (unknown) {
      counters.add(failure === undefined ? `${transport}.unknown-answered` : `${transport}.unknown-refused`)
      if (failure === undefined) findings.fail(`${transport} announce of an infohash the box does not publish was answered (published-only mode)`)
      return
    }
    counters.add(failure === undefined ? `${transport}.ok` : `${transport}.refused`)
  }

  private async httpAnnounce (): Promise<void> {
    const peer = this.pickPeer()
    const { infoHash, unknown } = this.pickInfoHash()
    const port = Math.random() < 0.5 ? this.options.ports.tracker : this.options.ports.http
    const path = announcePath({ infoHash, peerId: peer.peerId, port: peer.port, left: peer.left, numwant: 20 })
    const answer = await this.httpTry('http', () => httpGet(`http://127.0.0.1:${port}${path}`, peer.address, TIMEOUT_MS))
    if (answer === undefined) return
    this.count('http', unknown, answer.status === 200 ? failureOf(answer.body) : `HTTP ${answer.status}`)
  }

  private async scrape (): Promise<void> {
    const published = this.options.published()
    if (published.length === 0) return
    const infoHash = Buffer.from(published[randomInt(published.length)]!, 'hex')
    const port = Math.random() < 0.5 ? this.options.ports.tracker : this.options.ports.http
    const answer = await this.httpTry('scrape', () => httpGet(`http://127.0.0.1:${port}/scrape?info_hash=${percentEncode(infoHash)}`, this.pickPeer().address, TIMEOUT_MS))
    if (answer === undefined) return
    this.options.counters.add(answer.status === 200 && failureOf(answer.body) === undefined ? 'scrape.ok' : 'scrape.refused')
  }

  /** A refused, reset or timed-out connection is counted as such (the service may refuse), not thrown. */
  private async httpTry<T> (what: 'http' | 'scrape', attempt: () => Promise<T>): Promise<T | undefined> {
    try {
      return await attempt()
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      this.options.counters.add(code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'EPIPE' ? `${what}.refused` : `${what}.timeout`)
      return undefined
    }
  }

  private async udpAnnounce (): Promise<void> {
    const peer = this.pickPeer()
    const { infoHash, unknown } = this.pickInfoHash()
    const client = this.udpClient(peer.address)
    const answer = await client.announce(this.options.ports.tracker, infoHash, peer)
    if (answer === 'timeout') {
      this.options.counters.add('udp.timeout')
      return
    }
    this.count('udp', unknown, answer.failure)
  }

  private udpClient (address: string): UdpClient {
    let client = this.udp.get(address)
    if (client === undefined) {
      client = new UdpClient(address)
      this.udp.set(address, client)
    }
    return client
  }

  /** One WebSocket client: connects, announces every few seconds, and comes back after the service closes it. */
  private async webSocketClient (address: string, index: number): Promise<void> {
    const { signal } = this.abort
    const { counters } = this.options
    const peerId = Buffer.concat([Buffer.from('-SKWS01-'), randomBytes(12)])
    while (!signal.aborted) {
      const port = index % 2 === 0 ? this.options.ports.http : this.options.ports.tracker
      let client: WebSocketClient
      try {
        client = await WebSocketClient.connect('127.0.0.1', port, '/announce', { address }, TIMEOUT_MS)
      } catch {
        counters.add('ws.refused')
        await sleep(WS_ANNOUNCE_MS, signal)
        continue
      }
      this.webSockets.add(client)
      let closedByServer = false
      client.once('close', (byServer) => { closedByServer = byServer })
      while (!signal.aborted && client.open) {
        const { infoHash, unknown } = this.pickInfoHash()
        const answer = await wsAnnounce(client, infoHash, peerId)
        if (answer === 'timeout') counters.add(client.open ? 'ws.timeout' : 'ws.closed')
        else this.count('ws', unknown, answer.failure)
        await sleep(WS_ANNOUNCE_MS, signal)
      }
      if (closedByServer) counters.add('ws.closed')
      client.close()
      this.webSockets.delete(client)
    }
  }
}

async function wsAnnounce (client: WebSocketClient, infoHash: Buffer, peerId: Buffer): Promise<{ failure: string | undefined } | 'timeout'> {
  const answer = new Promise<{ failure: string | undefined } | 'timeout'>((resolve) => {
    const done = (result: { failure: string | undefined } | 'timeout'): void => {
      clearTimeout(timer)
      client.off('message', onMessage)
      client.off('close', onClose)
      resolve(result)
    }
    const onMessage = (text: string): void => {
      try {
        const message = JSON.parse(text) as Record<string, unknown>
        done({ failure: typeof message['failure reason'] === 'string' ? message['failure reason'] : undefined })
      } catch {
        done({ failure: 'not JSON' })
      }
    }
    const onClose = (): void => { done('timeout') }
    const timer = setTimeout(() => { done('timeout') }, TIMEOUT_MS)
    client.on('message', onMessage)
    client.once('close', onClose)
  })
  // WebTorrent's announce: the infohash and peer id as 20-character binary strings; no offers, so no peers wanted.
  await client.sendText(JSON.stringify({
    action: 'announce',
    info_hash: infoHash.toString('latin1'),
    peer_id: peerId.toString('latin1'),
    uploaded: 0,
    downloaded: 0,
    left: 0,
    numwant: 0,
    offers: []
  }))
  return await answer
}

/** The failure reason of a bencoded tracker answer; undefined for a proper answer. */
function failureOf (body: Buffer): string | undefined {
  try {
    const decoded = bencode.decode(body) as Record<string, unknown>
    const failure = decoded['failure reason']
    return failure === undefined ? undefined : Buffer.from(failure as Uint8Array).toString('utf8')
  } catch {
    return 'not bencoded'
  }
}

/** BEP 15 over one UDP socket bound to a fake peer's address; answers are matched by transaction id. */
class UdpClient {
  private readonly socket: Socket
  private readonly pending = new Map<number, (answer: Buffer) => void>()
  private connection: { id: Buffer, until: number } | undefined
  private closed = false

  constructor (address: string) {
    this.socket = createSocket('udp4')
    this.socket.on('error', () => {})
    this.socket.on('message', (message) => {
      if (message.length < 8) return
      this.pending.get(message.readUInt32BE(4))?.(message)
    })
    this.socket.bind(0, address)
  }

  async announce (port: number, infoHash: Buffer, peer: FakePeer): Promise<{ failure: string | undefined } | 'timeout'> {
    if (this.connection === undefined || this.connection.until < Date.now()) {
      const answer = await this.exchange(udpConnectPacket(), port)
      if (answer === undefined) return 'timeout'
      if (answer.readUInt32BE(0) !== 0 || answer.length < 16) return { failure: answer.subarray(8).toString() }
      this.connection = { id: Buffer.from(answer.subarray(8, 16)), until: Date.now() + UDP_CONNECTION_MS }
    }
    const packet = udpAnnouncePacket(this.connection.id, { infoHash, peerId: peer.peerId, port: peer.port, left: peer.left, numwant: 20, eventId: 0 })
    const answer = await this.exchange(packet, port)
    if (answer === undefined) return 'timeout'
    if (answer.readUInt32BE(0) === 3) {
      // A connection id the tracker no longer takes: connect again next time.
      this.connection = undefined
      return { failure: answer.subarray(8).toString() }
    }
    return { failure: undefined }
  }

  close (): void {
    this.closed = true
    this.socket.close()
  }

  /** Sends `packet` with a fresh transaction id (bytes 12–15) and waits for the answer carrying it. */
  private async exchange (packet: Buffer, port: number): Promise<Buffer | undefined> {
    if (this.closed) return undefined
    const transaction = randomBytes(4).readUInt32BE(0)
    packet.writeUInt32BE(transaction, 12)
    return await new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(transaction)
        resolve(undefined)
      }, TIMEOUT_MS)
      this.pending.set(transaction, (answer) => {
        clearTimeout(timer)
        this.pending.delete(transaction)
        resolve(answer)
      })
      this.socket.send(packet, port, '127.0.0.1')
    })
  }
}
