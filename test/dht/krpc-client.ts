import { createSocket, type Socket } from 'node:dgram'
import { once } from 'node:events'
import bencode from 'bencode'
import type { Teardown } from '../helpers/teardown.js'

/** A bare UDP socket speaking KRPC (BEP 5) by hand: well-formed queries, and anything else a hostile node sends. */
export class KrpcClient {
  private constructor (private readonly socket: Socket) {}

  /** A socket on `host`, closed when the test ends. */
  static async open (t: Teardown, host: string): Promise<KrpcClient> {
    const socket = createSocket('udp4')
    socket.bind(0, host)
    await once(socket, 'listening')
    t.teardown(() => new Promise<void>((resolve) => { try { socket.close(() => resolve()) } catch { resolve() } }))
    return new KrpcClient(socket)
  }

  /** Sends raw bytes, as they are. */
  async sendRaw (datagram: Uint8Array, port: number, host: string): Promise<void> {
    await new Promise<void>((resolve, reject) => this.socket.send(datagram, port, host, (error) => { if (error === null) resolve(); else reject(error) }))
  }

  /** Sends a query (`a.id` filled in) and resolves with the decoded reply to it, or undefined after `timeoutMs`. */
  async query (port: number, host: string, q: string, a: Record<string, unknown> = {}, timeoutMs = 3000): Promise<Record<string, any> | undefined> {
    const t = Buffer.from([Math.floor(Math.random() * 256), Math.floor(Math.random() * 256)])
    const reply = new Promise<Record<string, any> | undefined>((resolve) => {
      const timer = setTimeout(() => { this.socket.off('message', onMessage); resolve(undefined) }, timeoutMs)
      const onMessage = (datagram: Buffer): void => {
        let message: Record<string, any>
        try { message = bencode.decode(datagram) } catch { return }
        if (!(message.t instanceof Uint8Array) || !Buffer.from(message.t).equals(t)) return
        clearTimeout(timer)
        this.socket.off('message', onMessage)
        resolve(message)
      }
      this.socket.on('message', onMessage)
    })
    await this.sendRaw(bencode.encode({ t, y: 'q', q, a: { id: Buffer.alloc(20, 7), ...a } }), port, host)
    return await reply
  }
}

/** The peers (`host:port`) of a get_peers reply's `values`. */
export function peersOf (reply: Record<string, any> | undefined): string[] {
  const values: unknown = reply?.r?.values
  if (!Array.isArray(values)) return []
  return values.map((value: Uint8Array) => `${value[0]}.${value[1]}.${value[2]}.${value[3]}:${Buffer.from(value).readUInt16BE(4)}`)
}
