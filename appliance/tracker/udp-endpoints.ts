import { createSocket, type RemoteInfo, type Socket } from 'node:dgram'
import { isIPv4 } from 'node:net'
import { TrackerError } from './errors.js'
import { normalizeAddress } from '../net/peer-address.js'

/** One UDP socket bound to one local address; `address` is the form handed out to peers. */
export interface UdpEndpoint {
  readonly address: string
  readonly family: 4 | 6
  readonly socket: Socket
  /** Sends one datagram; a failure becomes a warning. */
  readonly send: (packet: Buffer, port: number, address: string) => void
}

export interface UdpEndpointsOptions {
  /** 0 picks a free port once; every other address is then bound to that same port. */
  readonly port: number
  /** Each socket's receive buffer (SO_RCVBUF; the kernel caps it at net.core.rmem_max). */
  readonly receiveBufferBytes: number
  /** The addresses to bind, asked again on every `refresh()`. */
  readonly addresses: () => readonly string[]
  readonly onMessage: (msg: Buffer, from: RemoteInfo, endpoint: UdpEndpoint) => void
  readonly onWarning: (error: TrackerError) => void
}

/**
 * The tracker's UDP sockets, one per local address. Node cannot tell which local address a datagram
 * on a wildcard socket was sent to (no IP_PKTINFO), yet the tracker must hand out the everseed at
 * exactly that address; a socket bound to one address answers that question by construction, and
 * the kernel sends its replies from that address too. `refresh()` follows addresses that come and go
 * (DHCP, Wi-Fi, a cable plugged in later).
 */
export class UdpEndpoints {
  private readonly options: UdpEndpointsOptions
  private readonly endpoints = new Map<string, UdpEndpoint>()
  /** Addresses that could not be bound, warned about once until they work. */
  private readonly failing = new Set<string>()
  private boundPort: number
  private refreshing: Promise<void> = Promise.resolve()

  constructor (options: UdpEndpointsOptions) {
    this.options = options
    this.boundPort = options.port
  }

  /** The port every endpoint is bound to; the chosen one once something was bound to port 0. */
  get port (): number {
    return this.boundPort
  }

  get size (): number {
    return this.endpoints.size
  }

  /** Binds addresses that appeared and closes those that went away; failures become warnings. */
  async refresh (): Promise<void> {
    const next = this.refreshing.then(async () => { await this.reconcile() })
    this.refreshing = next.catch(() => {}) // the caller of this refresh gets the error; later ones still run
    await next
  }

  async close (): Promise<void> {
    await this.refreshing
    const endpoints = [...this.endpoints.values()]
    this.endpoints.clear()
    await Promise.all(endpoints.map(async (endpoint) => { await closeSocket(endpoint.socket) }))
  }

  private async reconcile (): Promise<void> {
    const wanted = new Set(this.options.addresses())
    for (const [bindAddress, endpoint] of this.endpoints) {
      if (wanted.has(bindAddress)) continue
      this.endpoints.delete(bindAddress)
      await closeSocket(endpoint.socket)
    }
    for (const bindAddress of this.failing) {
      if (!wanted.has(bindAddress)) this.failing.delete(bindAddress)
    }
    for (const bindAddress of wanted) {
      if (this.endpoints.has(bindAddress)) continue
      try {
        this.endpoints.set(bindAddress, await this.open(bindAddress))
        this.failing.delete(bindAddress)
      } catch (error) {
        if (!this.failing.has(bindAddress)) {
          this.options.onWarning(new TrackerError('ET_LISTEN', `cannot listen for UDP tracker requests on [${bindAddress}]:${this.boundPort}, retrying at each refresh: ${(error as Error).message}`, { cause: error }))
        }
        this.failing.add(bindAddress)
      }
    }
  }

  private async open (bindAddress: string): Promise<UdpEndpoint> {
    const address = normalizeAddress(bindAddress)
    const family = isIPv4(address) ? 4 : 6
    const socket = createSocket({ type: family === 4 ? 'udp4' : 'udp6', ipv6Only: family === 6, recvBufferSize: this.options.receiveBufferBytes })
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject)
      socket.bind(this.boundPort, bindAddress, () => {
        socket.off('error', reject)
        resolve()
      })
    }).catch(async (error: unknown) => {
      await closeSocket(socket)
      throw error
    })
    this.boundPort = socket.address().port
    // One callback per socket, not one per datagram sent.
    const sent = (error: Error | null): void => {
      if (error !== null) this.options.onWarning(new TrackerError('ET_LISTEN', `cannot send a UDP tracker response from ${address}: ${error.message}`, { cause: error }))
    }
    const endpoint: UdpEndpoint = { address, family, socket, send: (packet, port, to) => { socket.send(packet, port, to, sent) } }
    socket.on('message', (msg, from) => { this.options.onMessage(msg, from, endpoint) })
    socket.on('error', (error) => {
      this.options.onWarning(new TrackerError('ET_LISTEN', `UDP tracker socket on ${address} failed, rebinding at the next refresh: ${error.message}`, { cause: error }))
      if (this.endpoints.get(bindAddress) === endpoint) this.endpoints.delete(bindAddress)
      void closeSocket(socket)
    })
    return endpoint
  }
}

async function closeSocket (socket: Socket): Promise<void> {
  await new Promise<void>((resolve) => {
    try {
      socket.close(() => { resolve() })
    } catch {
      resolve() // already closed
    }
  })
}
