/**
 * A token bucket for upload rate limits, driven by the caller's clock (milliseconds). A rate of 0
 * means unlimited. The bucket holds at most half a second of tokens, and never less than `minBurst`
 * (one block), so a send of up to `minBurst` bytes always becomes possible; a larger one may drive the
 * balance negative and is paid back before the next send.
 */
export class TokenBucket {
  private rate: number
  private capacity: number
  private tokens: number
  private updatedAt: number

  constructor (bytesPerSecond: number, private readonly minBurst: number, now: number) {
    this.rate = bytesPerSecond
    this.capacity = Math.max(minBurst, bytesPerSecond / 2)
    this.tokens = this.capacity
    this.updatedAt = now
  }

  get bytesPerSecond (): number {
    return this.rate
  }

  /** A new rate from `now` on (a config reload); tokens already earned are kept, up to the new capacity. */
  setRate (bytesPerSecond: number, now: number): void {
    this.refill(now)
    this.rate = bytesPerSecond
    this.capacity = Math.max(this.minBurst, bytesPerSecond / 2)
    this.tokens = this.unlimited ? this.capacity : Math.min(this.tokens, this.capacity)
    this.updatedAt = now
  }

  get unlimited (): boolean {
    return this.bytesPerSecond === 0
  }

  /** Milliseconds until `bytes` may be taken; 0 when they may be taken now. */
  waitMs (bytes: number, now: number): number {
    if (this.unlimited) return 0
    this.refill(now)
    const missing = Math.min(bytes, this.capacity) - this.tokens
    return missing <= 0 ? 0 : Math.ceil(missing * 1000 / this.bytesPerSecond)
  }

  take (bytes: number, now: number): void {
    if (this.unlimited) return
    this.refill(now)
    this.tokens -= bytes
  }

  private refill (now: number): void {
    if (now <= this.updatedAt) return
    this.tokens = Math.min(this.capacity, this.tokens + (now - this.updatedAt) * this.bytesPerSecond / 1000)
    this.updatedAt = now
  }
}
