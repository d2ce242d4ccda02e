import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'

/** BEP 15: a client may use a connection id for one minute, and a tracker should accept it for two. */
const WINDOW_MS = 60_000

/**
 * BEP 15 connection ids without per-client state: the id is an HMAC of the client's address, port and
 * the current minute under a secret of this process. A client that cannot receive at the address it
 * claims never learns a valid id, so spoofed announces cannot turn the tracker into an amplifier.
 */
export class ConnectionIds {
  private readonly secret: Buffer
  private readonly now: () => number

  constructor (options: { secret?: Buffer, now?: () => number } = {}) {
    this.secret = options.secret ?? randomBytes(32)
    this.now = options.now ?? Date.now
  }

  issue (address: string, port: number): Buffer {
    return this.idFor(address, port, this.window())
  }

  /** True when `id` was issued to this address and port in this minute or the one before. */
  verify (id: Buffer, address: string, port: number): boolean {
    if (id.length !== 8) return false
    const window = this.window()
    return timingSafeEqual(id, this.idFor(address, port, window)) || timingSafeEqual(id, this.idFor(address, port, window - 1))
  }

  private window (): number {
    return Math.floor(this.now() / WINDOW_MS)
  }

  private idFor (address: string, port: number, window: number): Buffer {
    return createHmac('sha256', this.secret).update(`${window} ${address} ${port}`).digest().subarray(0, 8)
  }
}
