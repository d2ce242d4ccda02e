import type { MutableStore } from './catalog-pointer.js'
import type { MutableItem } from './mutable-item.js'

export interface PointerKeeperOptions {
  readonly dht: MutableStore
  /** The kept item is put again this often (BEP 44: once an hour; nodes drop an item two hours after its last put). */
  readonly republishMs: number
  readonly now?: () => number
}

/**
 * A followed box's BEP 46 item, put again by its follower, as BEP 46 asks of consumers: the item
 * exactly as the box signed it (any node checks it by the box's key), so that the box's pointer
 * stays findable after the box itself stops putting it — switched off, or gone for good.
 */
export class PointerKeeper {
  private readonly now: () => number
  private item: MutableItem | undefined
  /** When a node last took the kept item; -Infinity: not yet (put at the next `keepAlive`). */
  private putAt = Number.NEGATIVE_INFINITY
  private putting: Promise<void> | undefined

  constructor (private readonly options: PointerKeeperOptions) {
    this.now = options.now ?? Date.now
  }

  /** The item kept, if any. */
  get kept (): MutableItem | undefined {
    return this.item
  }

  /**
   * Called at each poll with the item believed now, if the lookup found one: a newer item replaces
   * the kept one and is put at once; the kept one is put again once `republishMs` have passed since
   * a node last took it. The put runs on its own (a lookup does not wait for it); a failed put is
   * tried at the next call. Resolves when the put it started, if any, has ended.
   */
  async keepAlive (found?: MutableItem): Promise<void> {
    if (found !== undefined && (this.item === undefined || found.seq > this.item.seq)) {
      this.item = found
      this.putAt = Number.NEGATIVE_INFINITY
    }
    const item = this.item
    if (item === undefined || this.putting !== undefined || this.now() - this.putAt < this.options.republishMs) return
    this.putting = this.options.dht.putMutable(item).then((nodes) => {
      if (nodes > 0 && this.item === item) this.putAt = this.now()
    }, (error: unknown) => {
      // BEP 44's 302 from every node asked: each holds this very item (or a newer one) already.
      if ((error as { code?: unknown }).code === 302 && this.item === item) this.putAt = this.now()
    }).finally(() => { this.putting = undefined })
    await this.putting
  }
}
