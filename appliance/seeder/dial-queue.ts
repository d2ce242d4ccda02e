import { formatPeerAddress, type PeerAddress } from '../net/peer-address.js'

/** Leechers waiting for the everseed to dial them, at most. */
export const MAX_PENDING_DIALS = 1024

export interface DialQueueOptions {
  /** How long after its announce a leecher is dialled. */
  readonly delayMs: number
  readonly dial: (infoHash: string, peer: PeerAddress) => void
  /** Default: MAX_PENDING_DIALS. */
  readonly maxPending?: number
}

interface PendingDial {
  readonly infoHash: string
  readonly peer: PeerAddress
  readonly due: number
}

/**
 * Leechers the everseed dials a moment after they announce (most connect to it by themselves in that
 * moment): one timer for all of them, each torrent and address once, and at most `maxPending` waiting,
 * so an announce flood piles up neither timers nor dials.
 */
export class DialQueue {
  private readonly options: DialQueueOptions
  private readonly maxPending: number
  /** In the order they were added, which is the order they are due in (one delay for all). */
  private readonly pending = new Map<string, PendingDial>()
  private timer: NodeJS.Timeout | undefined

  constructor (options: DialQueueOptions) {
    this.options = options
    this.maxPending = options.maxPending ?? MAX_PENDING_DIALS
  }

  get size (): number {
    return this.pending.size
  }

  /** False when that leecher is already waiting, or the queue is full. */
  add (infoHash: string, peer: PeerAddress): boolean {
    const key = `${infoHash}/${formatPeerAddress(peer.ip, peer.port)}`
    if (this.pending.has(key) || this.pending.size >= this.maxPending) return false
    this.pending.set(key, { infoHash, peer, due: Date.now() + this.options.delayMs })
    this.arm()
    return true
  }

  close (): void {
    clearTimeout(this.timer)
    this.timer = undefined
    this.pending.clear()
  }

  private arm (): void {
    if (this.timer !== undefined) return
    const first = this.pending.values().next()
    if (first.done === true) return
    this.timer = setTimeout(() => { this.dialDue() }, Math.max(0, first.value.due - Date.now())).unref()
  }

  private dialDue (): void {
    this.timer = undefined
    const now = Date.now()
    for (const [key, entry] of this.pending) {
      if (entry.due > now) break
      this.pending.delete(key)
      this.options.dial(entry.infoHash, entry.peer)
    }
    this.arm()
  }
}
