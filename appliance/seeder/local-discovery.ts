import { createSocket, type Socket } from 'node:dgram'
import { randomBytes } from 'node:crypto'
import type { InfoHash } from '../metainfo/metainfo.js'
import { encodeLsdAnnounces, LSD_GROUP, parseLsdAnnounce } from './lsd-message.js'

export interface LocalDiscoveryOptions {
  /** The TCP port we accept peers on, put in every announce. */
  readonly port: number
  /**
   * IPv4 address of the interface to send announces on and join the group on; undefined lets the
   * OS pick (the default route's interface). Tests pass 127.0.0.1 so nothing leaves the machine.
   */
  readonly interfaceAddress: string | undefined
  /** UDP port of the LSD group: 6771 by BEP 14; tests use another so parallel runs do not meet. */
  readonly lsdPort: number
  readonly intervalMs: number
  /** Listen for other peers' announces of our torrents, and report them with `onPeer`. */
  readonly acceptAnnounces: boolean
  /** The torrents to announce right now (the seeder leaves out private ones, BEP 27). */
  readonly infoHashes: () => Iterable<InfoHash>
  readonly onPeer: (infoHash: string, host: string, port: number) => void
  readonly onWarning: (message: string) => void
}

/** Delay that gathers torrents published together into one round of announces. */
const SOON_MS = 1000

/**
 * BEP 14 local service discovery: multicasts BT-SEARCH announces of our torrents to the LAN every
 * `intervalMs` (and soon after one is published), and hears the announces of LAN peers.
 */
export class LocalDiscovery {
  private readonly options: LocalDiscoveryOptions
  /** BEP 14 cookie: our own announces come back to us through multicast loopback; this tells them apart. */
  private readonly cookie = randomBytes(6).toString('hex')
  private socket: Socket | undefined
  private interval: NodeJS.Timeout | undefined
  private soon: NodeJS.Timeout | undefined
  private readonly pending = new Set<InfoHash>()

  constructor (options: LocalDiscoveryOptions) {
    this.options = options
  }

  async start (): Promise<void> {
    const socket = createSocket({ type: 'udp4', reuseAddr: true })
    socket.on('message', (message, remote) => this.onMessage(message, remote.address))
    const { acceptAnnounces, interfaceAddress, lsdPort } = this.options
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject)
      if (acceptAnnounces) socket.bind(lsdPort, () => resolve())
      else socket.bind(0, interfaceAddress, () => resolve())
    }).catch((error: Error) => {
      socket.close()
      throw error
    })
    try {
      // Before anything is sent: the interface decides which network hears us.
      if (interfaceAddress !== undefined) socket.setMulticastInterface(interfaceAddress)
      socket.setMulticastTTL(1)
      if (acceptAnnounces) socket.addMembership(LSD_GROUP, interfaceAddress)
    } catch (error) {
      socket.close()
      throw error
    }
    socket.on('error', (error) => this.options.onWarning(`local service discovery: ${error.message}`))
    this.socket = socket
    this.interval = setInterval(() => this.announce(this.options.infoHashes()), this.options.intervalMs)
    this.announceSoon(this.options.infoHashes())
  }

  /** Announces these torrents within a second, together with any others published meanwhile. */
  announceSoon (infoHashes: Iterable<InfoHash>): void {
    for (const infoHash of infoHashes) this.pending.add(infoHash)
    if (this.soon !== undefined || this.socket === undefined) return
    this.soon = setTimeout(() => {
      this.soon = undefined
      const due = [...this.pending]
      this.pending.clear()
      this.announce(due)
    }, SOON_MS)
  }

  async close (): Promise<void> {
    clearInterval(this.interval)
    clearTimeout(this.soon)
    const socket = this.socket
    this.socket = undefined
    if (socket !== undefined) await new Promise<void>((resolve) => socket.close(() => resolve()))
  }

  private announce (infoHashes: Iterable<InfoHash>): void {
    const socket = this.socket
    if (socket === undefined) return
    const messages = encodeLsdAnnounces({ port: this.options.port, infoHashes: [...infoHashes], cookie: this.cookie }, `${LSD_GROUP}:${this.options.lsdPort}`)
    for (const message of messages) {
      socket.send(message, this.options.lsdPort, LSD_GROUP, (error) => {
        if (error !== null && error !== undefined) this.options.onWarning(`local service discovery announce failed: ${error.message}`)
      })
    }
  }

  private onMessage (message: Buffer, host: string): void {
    if (!this.options.acceptAnnounces) return
    const announce = parseLsdAnnounce(message)
    if (announce === undefined || announce.cookie === this.cookie) return
    for (const infoHash of announce.infoHashes) this.options.onPeer(infoHash, host, announce.port)
  }
}
