import { MAX_BLOCK_LENGTH } from './piece-request.js'

/**
 * The buffers blocks are read into and sent from, one block long each and `capacityBytes` of them at
 * most: this bounds the bytes being read or queued on the sockets of all peers together. A buffer
 * comes back once its socket has written it (or the connection is gone) and is used again. Left to
 * the garbage collector, each block would be a new off-heap buffer, and V8 frees those only after tens
 * of MB of dead ones have piled up (measured: 40–55 MB while 20 peers download over loopback).
 */
export class BlockPool {
  readonly capacityBytes: number
  private readonly onRelease: () => void
  private readonly free: ArrayBuffer[] = []
  private readonly lent = new Set<ArrayBuffer>()

  /** `onRelease` runs whenever a buffer comes back, so whoever waits for one can go on. */
  constructor (capacityBytes: number, onRelease: () => void) {
    this.capacityBytes = Math.max(capacityBytes, MAX_BLOCK_LENGTH)
    this.onRelease = onRelease
  }

  /** True when `take` would give a buffer now. */
  get available (): boolean {
    return this.free.length > 0 || this.allocatedBytes + MAX_BLOCK_LENGTH <= this.capacityBytes
  }

  /** Bytes of the buffers taken and not yet released. */
  get lentBytes (): number {
    return this.lent.size * MAX_BLOCK_LENGTH
  }

  /** A buffer of `length` bytes (at most one block), or undefined while every buffer is taken. */
  take (length: number): Buffer | undefined {
    if (length > MAX_BLOCK_LENGTH) throw new RangeError(`a block is at most ${MAX_BLOCK_LENGTH} bytes, not ${length}`)
    const memory = this.free.pop() ?? (this.available ? new ArrayBuffer(MAX_BLOCK_LENGTH) : undefined)
    if (memory === undefined) return undefined
    this.lent.add(memory)
    return Buffer.from(memory, 0, length)
  }

  /** Gives back a buffer from `take`; giving one back twice, or one from elsewhere, does nothing. */
  release (block: Uint8Array): void {
    if (!this.lent.delete(block.buffer as ArrayBuffer)) return
    this.free.push(block.buffer as ArrayBuffer)
    this.onRelease()
  }

  private get allocatedBytes (): number {
    return (this.free.length + this.lent.size) * MAX_BLOCK_LENGTH
  }
}
