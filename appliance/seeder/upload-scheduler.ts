import type { TokenBucket } from './token-bucket.js'

/** A peer connection with requests to serve, as the scheduler sees it. */
export interface UploadSource {
  /** The byte length of the block it would send next, or undefined when it cannot send now (nothing queued, socket backed up, enough reads in flight). */
  nextBlockLength (): number | undefined
  /** Requests are still queued (maybe waiting for the socket or the disk). */
  readonly hasQueued: boolean
  /** Its own upload rate limit. */
  readonly bucket: TokenBucket
  /** Starts serving its next queued block, read into `block` (of `nextBlockLength()` bytes), which it gives back to the pool. */
  sendNext (block: Buffer): void
}

/** Where block buffers come from: a bounded pool, so the scheduler waits while every one is in use. */
export interface BlockSource {
  readonly available: boolean
  take (length: number): Buffer | undefined
}

/**
 * Hands out upload bandwidth block by block, round-robin over the peers with queued requests, within
 * the global and each peer's rate limit and while the block pool has a buffer. Sources wake it when
 * they queue a request or can send again, the pool when a buffer comes back.
 */
export class UploadScheduler {
  private readonly global: TokenBucket
  private readonly blocks: BlockSource
  private readonly now: () => number
  /** Insertion order is the round-robin order: a served source moves to the back. */
  private readonly ready = new Set<UploadSource>()
  private immediate: NodeJS.Immediate | undefined
  private timer: NodeJS.Timeout | undefined
  private closed = false

  constructor (global: TokenBucket, blocks: BlockSource, now: () => number) {
    this.global = global
    this.blocks = blocks
    this.now = now
  }

  /** A source has something queued. */
  add (source: UploadSource): void {
    if (!this.ready.has(source)) this.ready.add(source)
    this.wake()
  }

  remove (source: UploadSource): void {
    this.ready.delete(source)
  }

  /**
   * Runs a round on the next turn of the event loop, after the bytes pushed this turn reached the
   * sockets, so each source's backlog is measured right.
   */
  wake (): void {
    if (this.immediate !== undefined || this.closed) return
    this.immediate = setImmediate(() => {
      this.immediate = undefined
      this.pump()
    })
  }

  close (): void {
    this.closed = true
    clearImmediate(this.immediate)
    clearTimeout(this.timer)
    this.ready.clear()
  }

  private pump (): void {
    clearTimeout(this.timer)
    this.timer = undefined
    const now = this.now()
    let retryInMs = Number.POSITIVE_INFINITY
    let served = true
    while (served) {
      served = false
      for (const source of [...this.ready]) {
        // Every buffer is being read into or queued on a socket: the next one to come back wakes us.
        if (!this.blocks.available) return
        if (!this.ready.has(source)) continue
        const length = source.nextBlockLength()
        if (length === undefined) {
          if (!source.hasQueued) this.ready.delete(source)
          continue
        }
        const globalWait = this.global.waitMs(length, now)
        if (globalWait > 0) {
          this.retryIn(globalWait)
          return
        }
        const peerWait = source.bucket.waitMs(length, now)
        if (peerWait > 0) {
          retryInMs = Math.min(retryInMs, peerWait)
          continue
        }
        this.global.take(length, now)
        source.bucket.take(length, now)
        this.ready.delete(source)
        this.ready.add(source)
        source.sendNext(this.blocks.take(length)!)
        served = true
      }
    }
    if (retryInMs !== Number.POSITIVE_INFINITY) this.retryIn(retryInMs)
  }

  private retryIn (ms: number): void {
    if (this.timer !== undefined || this.closed) return
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.wake()
    }, ms)
  }
}
