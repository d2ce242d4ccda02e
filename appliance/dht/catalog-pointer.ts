import { EventEmitter } from 'node:events'
import type { InfoHash } from '../metainfo/metainfo.js'
import { mutableTarget, pointerValue, signatureMessage, type MutableItem } from './mutable-item.js'
import { readPointerState, writePointerState, type PointerState } from './pointer-state.js'
import { chooseCatalogPointer, type MutableGetter } from './resolve-catalog-pointer.js'

/** Where the pointer is put: the DHT engine (`Dht`). */
export interface MutableStore extends MutableGetter {
  putMutable: (item: MutableItem) => Promise<number>
}

export interface CatalogPointerOptions {
  readonly dht: MutableStore
  /** The box's raw 32-byte ed25519 public key, and signing with its private key (identity/box-key.ts). */
  readonly publicKey: Buffer
  readonly sign: (message: Uint8Array) => Buffer
  /** The state file keeping the last item (`catalog-pointer.json`): a restart never goes back to a lower `seq`. */
  readonly stateFile: string
  /** The same item is put again this often (BEP 44: once an hour). */
  readonly republishMs: number
  readonly now?: () => number
}

export interface CatalogPointerSnapshot {
  readonly seq: number | undefined
  readonly infoHash: InfoHash | undefined
  /** When a node last took the item (Date.now()). */
  readonly lastPutAt: number | undefined
  /** How many nodes took it then. */
  readonly nodes: number
}

export interface CatalogPointerEvents {
  put: [snapshot: CatalogPointerSnapshot]
  warning: [warning: { readonly code: 'ET_POINTER_STATE' | 'ET_POINTER_PUT', readonly message: string }]
}

/** A put no node took (no DHT yet, none answered) is tried again this soon. */
const RETRY_MS = 30_000

/**
 * The box's BEP 46 item in the DHT: `v = { ih: <catalog torrent's infohash> }`, no salt, signed by the
 * box's key (BEP 44), put whenever the catalog torrent changes and again every `republishMs`. Each new
 * infohash takes the next `seq`, saved (atomically) before the item is put, so a restart continues
 * from it; with no state file (lost, or a first start) the item the DHT holds for this key, if any,
 * is looked up first and `seq` continues above it.
 */
export class CatalogPointer extends EventEmitter<CatalogPointerEvents> {
  private readonly now: () => number
  private state: PointerState | undefined
  private stateRead = false
  private queue: Promise<void> = Promise.resolve()
  /** The state file being written, if it is: close waits for it, not for a put under way. */
  private saving: Promise<void> = Promise.resolve()
  private republishTimer: NodeJS.Timeout | undefined
  private retryTimer: NodeJS.Timeout | undefined
  private lastPutAt: number | undefined
  private nodes = 0
  private closed = false
  private warnedPut = false

  constructor (private readonly options: CatalogPointerOptions) {
    super()
    this.now = options.now ?? Date.now
  }

  /** Reads the state file; `point` then puts the first item. */
  async start (): Promise<void> {
    const state = await readPointerState(this.options.stateFile)
    this.stateRead = true
    if (state !== undefined && 'refused' in state) {
      this.warn('ET_POINTER_STATE', `${this.options.stateFile} refused (${state.refused}); the DHT is asked for the last sequence number before the next put`)
    } else {
      this.state = state
    }
    this.republishTimer = setInterval(() => { this.enqueue(async () => { await this.put() }) }, this.options.republishMs)
    this.republishTimer.unref()
  }

  /** Points the box's item at `infoHash` (the catalog torrent), with the next `seq` if it changed. */
  point (infoHash: InfoHash): void {
    if (!this.stateRead) throw new Error('CatalogPointer.point before start')
    this.enqueue(async () => {
      if (this.state?.infoHash !== infoHash) await this.advance(infoHash)
      await this.put()
    })
  }

  snapshot (): CatalogPointerSnapshot {
    return { seq: this.state?.seq, infoHash: this.state?.infoHash, lastPutAt: this.lastPutAt, nodes: this.nodes }
  }

  /**
   * Stops putting. A put under way is not waited for (its lookup may take the DHT's timeouts, and
   * the item is put again at the next start); a state file being written is.
   */
  async close (): Promise<void> {
    this.closed = true
    clearInterval(this.republishTimer)
    clearTimeout(this.retryTimer)
    await this.saving
  }

  private enqueue (work: () => Promise<void>): void {
    this.queue = this.queue.then(async () => { if (!this.closed) await work() }).catch((error: unknown) => {
      this.warn('ET_POINTER_STATE', `cannot save the catalog pointer's state ${this.options.stateFile}: ${error instanceof Error ? error.message : String(error)}; tried again in ${RETRY_MS / 1000} s`)
      this.retryLater()
    })
  }

  private async advance (infoHash: InfoHash): Promise<void> {
    const base = this.state?.seq ?? await this.seqInDht()
    const seq = base === undefined ? 1 : base + 1
    const v = pointerValue(infoHash)
    const state = { seq, infoHash, sig: this.options.sign(signatureMessage({ seq, v })) }
    // Saved before it is put: no restart can sign another item under the same or a lower seq.
    const saving = writePointerState(this.options.stateFile, state)
    this.saving = saving.catch(() => {})
    await saving
    this.state = state
  }

  /** The highest valid `seq` the DHT holds for our key: the state file is gone, and seq must not go back. */
  private async seqInDht (): Promise<number | undefined> {
    try {
      return chooseCatalogPointer(await this.options.dht.getMutable(mutableTarget(this.options.publicKey)), this.options.publicKey).found?.seq
    } catch {
      return undefined
    }
  }

  private async put (): Promise<void> {
    const state = this.state
    if (state === undefined) return
    clearTimeout(this.retryTimer)
    this.retryTimer = undefined
    try {
      this.nodes = await this.options.dht.putMutable({ k: this.options.publicKey, seq: state.seq, v: pointerValue(state.infoHash), sig: state.sig })
      this.lastPutAt = this.now()
      this.warnedPut = false
      this.emit('put', this.snapshot())
    } catch (error) {
      if ((error as { code?: unknown }).code === 302 && await this.heldOrOvertaken(state)) return
      if (!this.warnedPut) this.warn('ET_POINTER_PUT', `no DHT node took the box's catalog pointer (${error instanceof Error ? error.message : String(error)}); trying again every ${RETRY_MS / 1000} s`)
      this.warnedPut = true
      this.retryLater()
    }
  }

  /**
   * Every node answered 302 (BEP 44: "sequence number less than current"): they hold this very item
   * (a republish to nodes that kept it: done), or a higher seq signed by our key (a state file
   * restored from an old backup): the item is then signed again above it.
   */
  private async heldOrOvertaken (state: PointerState): Promise<boolean> {
    const seqInDht = await this.seqInDht()
    if (seqInDht !== undefined && seqInDht > state.seq) {
      this.state = { ...state, seq: seqInDht }
      await this.advance(state.infoHash)
      await this.put()
      return true
    }
    this.lastPutAt = this.now()
    this.emit('put', this.snapshot())
    return true
  }

  private retryLater (): void {
    if (this.closed || this.retryTimer !== undefined) return
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined
      this.enqueue(async () => { await this.put() })
    }, RETRY_MS)
    this.retryTimer.unref()
  }

  private warn (code: 'ET_POINTER_STATE' | 'ET_POINTER_PUT', message: string): void {
    this.emit('warning', { code, message })
  }
}
