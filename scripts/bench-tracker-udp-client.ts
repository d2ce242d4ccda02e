/**
 * A one-socket BEP 15 client for bench-tracker's single questions (is it up, scrape one swarm, one
 * announce with numwant 200): each request resent until its answer comes, matched by transaction id.
 */
import { createSocket, type Socket } from 'node:dgram'
import {
  ANNOUNCE_LENGTH, EVENT_STARTED, connectionIdOf, encodeConnect, encodeScrape, errorMessageOf, parseAnnounceAnswer,
  parseScrapeAnswer, responseHead, writeAnnounce, type AnnounceAnswer, type ScrapeAnswer
} from './bench-tracker-datagrams.js'

export interface UdpEndpoint {
  /** The local address to send from. */
  readonly source: string
  readonly host: string
  readonly port: number
}

/** Sends `msg` from a fresh socket until an answer with its transaction id comes; rejects after `tries`. */
export async function udpExchange (endpoint: UdpEndpoint, msg: Buffer, tries: number, timeoutMs: number): Promise<Buffer> {
  const client = await UdpTrackerClient.open(endpoint)
  try {
    return await client.exchange(msg, tries, timeoutMs)
  } finally {
    client.close()
  }
}

export class UdpTrackerClient {
  private connectionId: Buffer | undefined
  private nextTransaction = 0x1000

  private constructor (private readonly socket: Socket, private readonly endpoint: UdpEndpoint) {}

  static async open (endpoint: UdpEndpoint): Promise<UdpTrackerClient> {
    const socket = createSocket('udp4')
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject)
      socket.bind(0, endpoint.source, () => { socket.off('error', reject); resolve() })
    })
    return new UdpTrackerClient(socket, endpoint)
  }

  close (): void {
    this.socket.close()
  }

  /** Sends `msg` (its transaction id at byte 12) until the answer with that id comes. */
  async exchange (msg: Buffer, tries = 5, timeoutMs = 1000): Promise<Buffer> {
    const transactionId = msg.readUInt32BE(12)
    for (let attempt = 0; attempt < tries; attempt++) {
      const answer = new Promise<Buffer | undefined>((resolve) => {
        const onMessage = (reply: Buffer): void => {
          if (responseHead(reply)?.transactionId !== transactionId) return
          clearTimeout(timer)
          this.socket.off('message', onMessage)
          resolve(reply)
        }
        const timer = setTimeout(() => { this.socket.off('message', onMessage); resolve(undefined) }, timeoutMs)
        this.socket.on('message', onMessage)
      })
      this.socket.send(msg, this.endpoint.port, this.endpoint.host)
      const reply = await answer
      if (reply !== undefined) return reply
    }
    throw new Error(`no answer from ${this.endpoint.host}:${this.endpoint.port} after ${tries} tries`)
  }

  async announce (infoHash: Buffer, peerId: Buffer, port: number, numwant: number): Promise<AnnounceAnswer> {
    const msg = writeAnnounce(Buffer.alloc(ANNOUNCE_LENGTH), {
      connectionId: await this.connect(), transactionId: this.transaction(), infoHash, peerId, left: 1, event: EVENT_STARTED, numwant, port
    })
    return this.expect(await this.exchange(msg), parseAnnounceAnswer, 'announce')
  }

  async scrape (infoHash: Buffer): Promise<ScrapeAnswer> {
    return this.expect(await this.exchange(encodeScrape(await this.connect(), this.transaction(), infoHash)), parseScrapeAnswer, 'scrape')
  }

  private async connect (): Promise<Buffer> {
    if (this.connectionId === undefined) {
      this.connectionId = this.expect(await this.exchange(encodeConnect(this.transaction())), connectionIdOf, 'connect')
    }
    return this.connectionId
  }

  private expect<T> (reply: Buffer, parse: (msg: Buffer) => T | undefined, what: string): T {
    const parsed = parse(reply)
    if (parsed !== undefined) return parsed
    const error = errorMessageOf(reply)
    throw new Error(`${this.endpoint.host}:${this.endpoint.port} answered a ${what} with ${error !== undefined ? `the error "${error}"` : `${reply.length} bytes of something else`}`)
  }

  private transaction (): number {
    return ++this.nextTransaction
  }
}
