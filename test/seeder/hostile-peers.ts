import type { ExecutionContext } from 'ava'
import type { Metainfo } from '../../appliance/metainfo/metainfo.js'
import { MESSAGE, RawPeer } from './peers.js'

const BLOCK = 16 * 1024

/** How soon an attacker opens a closed idle or non-reading connection again (with `reopen`). */
const REOPEN_MS = 1000
/** How soon a silent one, which costs the attacker nothing. */
const REOPEN_SILENT_MS = 20

/**
 * Connections that hold the everseed's places without using them, as an attacker would open them
 * from one or a few hosts (loopback addresses other than 127.0.0.1). With `reopen`, a connection the
 * seeder closes (or refuses) is opened again, of the same kind, until the test ends; every one is
 * destroyed when it ends.
 */
export class HostileCrowd {
  readonly peers = new Set<RawPeer>()
  private readonly timers = new Set<NodeJS.Timeout>()
  private stopped = false

  constructor (t: ExecutionContext, private readonly port: number) {
    t.teardown(() => this.stop())
  }

  /** How many of them the seeder has not closed (as far as they know). */
  get open (): number {
    return this.peers.size
  }

  /** Past the handshake for the torrent, then silent (nothing is ever sent, not even a keep-alive). */
  async idle (infoHash: string, localAddress: string, reopen = false): Promise<RawPeer> {
    const peer = await this.connect(localAddress)
    peer.sendHandshake(infoHash)
    if (reopen) this.reopen(peer, REOPEN_MS, async () => await this.idle(infoHash, localAddress, true))
    return peer
  }

  /**
   * Never reads its socket: sends the handshake, `interested`, and `perSecond` requests a second
   * (walking through the torrent's blocks), whatever the seeder answers. A plain peer (no fast
   * extension), so requests it sends while choked are dropped, not counted against it. Reading
   * nothing, it notices that the seeder closed the connection only when a write fails.
   */
  async nonReading (metainfo: Metainfo, localAddress: string, reopen = false, perSecond = 32): Promise<RawPeer> {
    const peer = await this.connect(localAddress)
    peer.socket.pause()
    peer.sendHandshake(metainfo.infoHash)
    peer.sendMessage(MESSAGE.interested)
    const blocksPerPiece = metainfo.pieceLength / BLOCK
    const blocks = Math.floor(metainfo.totalBytes / metainfo.pieceLength) * blocksPerPiece
    let next = Math.floor(Math.random() * blocks)
    const timer = setInterval(() => {
      if (peer.isClosed) {
        clearInterval(timer)
        return
      }
      const batch: Buffer[] = []
      for (let i = 0; i < perSecond / 4; i++, next = (next + 1) % blocks) {
        batch.push(RawPeer.message(MESSAGE.request, Math.floor(next / blocksPerPiece), (next % blocksPerPiece) * BLOCK, BLOCK))
      }
      peer.write(Buffer.concat(batch))
    }, 250)
    this.timers.add(timer)
    if (reopen) this.reopen(peer, REOPEN_MS, async () => await this.nonReading(metainfo, localAddress, true, perSecond))
    return peer
  }

  /** A TCP connection that never sends a byte. */
  async silent (localAddress: string, reopen = false): Promise<RawPeer> {
    const peer = await this.connect(localAddress)
    if (reopen) this.reopen(peer, REOPEN_SILENT_MS, async () => await this.silent(localAddress, true))
    return peer
  }

  stop (): void {
    this.stopped = true
    for (const timer of this.timers) clearTimeout(timer)
    for (const peer of this.peers) peer.destroy()
  }

  private reopen (peer: RawPeer, afterMs: number, open: () => Promise<unknown>): void {
    void peer.closed.then(() => {
      if (this.stopped) return
      const timer = setTimeout(() => {
        this.timers.delete(timer)
        if (!this.stopped) open().catch(() => {})
      }, afterMs)
      this.timers.add(timer)
    })
  }

  private async connect (localAddress: string): Promise<RawPeer> {
    const peer = await RawPeer.connect(this.port, localAddress)
    this.peers.add(peer)
    void peer.closed.then(() => this.peers.delete(peer))
    if (this.stopped) peer.destroy()
    return peer
  }
}

/** `count` loopback addresses from 127.0.0.2 on, each standing for another host. */
export function otherHosts (count: number): string[] {
  return Array.from({ length: count }, (_, i) => `127.0.0.${i + 2}`)
}
