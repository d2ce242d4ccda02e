/** BEP 3: blocks of 16 KiB, the size every client asks for and serves. */
export const BLOCK_SIZE = 16 * 1024

export interface BlockRef {
  readonly piece: number
  readonly offset: number
  readonly length: number
}

const FREE = 0
const REQUESTED = 1
const RECEIVED = 2

/** In endgame a block is asked of at most this many peers at once. */
const ENDGAME_REQUESTERS = 2

interface ActivePiece {
  /** FREE, REQUESTED or RECEIVED, per block. */
  readonly blocks: Uint8Array
  /** Peers (and web seeds) a block is asked of now. */
  readonly requesters: Uint8Array
  /** Blocks received and written to disk. */
  written: number
}

/** A received block of one start of a piece (a piece started again after a bad hash is another start). */
export type BlockTicket = { readonly __brand: 'BlockTicket' }

export interface PiecePickerOptions {
  readonly pieceCount: number
  readonly pieceLength: number
  readonly totalBytes: number
  /** Pieces started and not yet verified, at most: bounds the disk space written but unchecked and the picker's own state. */
  readonly maxActivePieces: number
  readonly random?: () => number
}

/**
 * Which blocks to ask whom for; pure state, no IO. Rarest first (the piece the fewest connected peers
 * have, ties broken at random): with several mirrors and leechers in a swarm, it spreads the pieces
 * that could vanish with one peer before the common ones; with one seed the order costs nothing, and
 * the content is published whole, never streamed, so sequential order buys nothing. Pieces already
 * started are finished first, so at most `maxActivePieces` are ever partly written. Once every missing
 * piece is started and no block is left unasked, endgame: a block still out is also asked of a second peer.
 */
export class PiecePicker {
  readonly pieceCount: number
  private readonly options: PiecePickerOptions
  private readonly verified: Uint8Array
  private verifiedTotal = 0
  private readonly availability: Uint16Array
  private readonly active = new Map<number, ActivePiece>()
  private readonly random: () => number

  constructor (options: PiecePickerOptions) {
    this.options = options
    this.pieceCount = options.pieceCount
    this.verified = new Uint8Array(options.pieceCount)
    this.availability = new Uint16Array(options.pieceCount)
    this.random = options.random ?? Math.random
  }

  get verifiedCount (): number {
    return this.verifiedTotal
  }

  get complete (): boolean {
    return this.verifiedTotal === this.pieceCount
  }

  isVerified (piece: number): boolean {
    return this.verified[piece] === 1
  }

  /** Pieces verified, as a BEP 3 bitfield. */
  bitfield (): Uint8Array {
    const bits = new Uint8Array(Math.ceil(this.pieceCount / 8))
    for (let piece = 0; piece < this.pieceCount; piece++) if (this.verified[piece] === 1) bits[piece >> 3]! |= 0x80 >> (piece & 7)
    return bits
  }

  blockCount (piece: number): number {
    return Math.ceil(this.pieceLengthOf(piece) / BLOCK_SIZE)
  }

  pieceLengthOf (piece: number): number {
    const { pieceLength, totalBytes } = this.options
    return Math.min(pieceLength, totalBytes - piece * pieceLength)
  }

  /** A peer's pieces came (bitfield, HaveAll) or went (it left): counted for rarest first. */
  countPeer (has: (piece: number) => boolean, change: 1 | -1): void {
    for (let piece = 0; piece < this.pieceCount; piece++) if (has(piece)) this.availability[piece] = Math.max(0, this.availability[piece]! + change)
  }

  countHave (piece: number): void {
    if (piece >= 0 && piece < this.pieceCount && this.availability[piece]! < 0xffff) this.availability[piece]!++
  }

  /**
   * Up to `max` blocks to ask of a peer that has the pieces `has` says; `asked` says which blocks
   * that peer was already asked for (an endgame duplicate must go to another peer).
   */
  pick (has: (piece: number) => boolean, max: number, asked: (piece: number, offset: number) => boolean): BlockRef[] {
    const picked: BlockRef[] = []
    for (const [piece, active] of this.active) {
      if (picked.length >= max) return picked
      if (has(piece)) this.takeFree(piece, active, max, picked)
    }
    while (picked.length < max && this.active.size < this.options.maxActivePieces) {
      const piece = this.rarestMissing(has)
      if (piece === undefined) break
      this.takeFree(piece, this.start(piece), max, picked)
    }
    if (picked.length === 0 && this.inEndgame()) this.takeEndgame(has, max, asked, picked)
    return picked
  }

  /** A whole piece for a source that fetches pieces, not blocks (a BEP 19 web seed); undefined when none is free. */
  claimPiece (has: (piece: number) => boolean): number | undefined {
    for (const [piece, active] of this.active) {
      if (has(piece) && active.blocks.every((state) => state === FREE)) return this.claim(piece, active)
    }
    if (this.active.size >= this.options.maxActivePieces) return undefined
    const piece = this.rarestMissing(has)
    return piece === undefined ? undefined : this.claim(piece, this.start(piece))
  }

  /**
   * A block came: a ticket when it is wanted (write it, then call `blockWritten`), undefined when it
   * is not (a duplicate, or of a piece not being fetched): drop it.
   */
  blockArrived (piece: number, offset: number, length: number): BlockTicket | undefined {
    const active = this.active.get(piece)
    if (active === undefined || offset % BLOCK_SIZE !== 0) return undefined
    const block = offset / BLOCK_SIZE
    if (active.blocks[block] !== REQUESTED || length !== this.blockRef(piece, block).length) return undefined
    active.blocks[block] = RECEIVED
    active.requesters[block] = 0
    return active as unknown as BlockTicket
  }

  /** The block of `ticket` is on disk. True when its piece is now whole: verify it (`pieceVerified` or `pieceFailed`). */
  blockWritten (piece: number, ticket: BlockTicket): boolean {
    const active = ticket as unknown as ActivePiece
    active.written++
    return this.active.get(piece) === active && active.written === active.blocks.length
  }

  /** A request ended without its block (choke, reject, timeout, the peer gone): someone may ask again. */
  blockDropped (piece: number, offset: number): void {
    const active = this.active.get(piece)
    const block = offset / BLOCK_SIZE
    if (active === undefined || active.blocks[block] !== REQUESTED) return
    if (active.requesters[block]! > 0) active.requesters[block]!--
    if (active.requesters[block] === 0) active.blocks[block] = FREE
  }

  /** Every block of a claimed piece dropped (a web seed failed). */
  releasePiece (piece: number): void {
    const active = this.active.get(piece)
    if (active === undefined) return
    for (let block = 0; block < active.blocks.length; block++) {
      if (active.blocks[block] === REQUESTED) this.blockDropped(piece, block * BLOCK_SIZE)
    }
  }

  pieceVerified (piece: number): void {
    this.active.delete(piece)
    if (this.verified[piece] === 1) return
    this.verified[piece] = 1
    this.verifiedTotal++
  }

  /** The piece's hash was wrong: all of it is asked for again. */
  pieceFailed (piece: number): void {
    this.active.delete(piece)
  }

  /** Blocks of `piece` that are asked of someone now (to cancel elsewhere once one arrives). */
  isRequested (piece: number, offset: number): boolean {
    return this.active.get(piece)?.blocks[offset / BLOCK_SIZE] === REQUESTED
  }

  private start (piece: number): ActivePiece {
    const blocks = this.blockCount(piece)
    const active: ActivePiece = { blocks: new Uint8Array(blocks), requesters: new Uint8Array(blocks), written: 0 }
    this.active.set(piece, active)
    return active
  }

  private claim (piece: number, active: ActivePiece): number {
    active.blocks.fill(REQUESTED)
    active.requesters.fill(1)
    return piece
  }

  private takeFree (piece: number, active: ActivePiece, max: number, picked: BlockRef[]): void {
    for (let block = 0; block < active.blocks.length && picked.length < max; block++) {
      if (active.blocks[block] !== FREE) continue
      active.blocks[block] = REQUESTED
      active.requesters[block] = 1
      picked.push(this.blockRef(piece, block))
    }
  }

  private takeEndgame (has: (piece: number) => boolean, max: number, asked: (piece: number, offset: number) => boolean, picked: BlockRef[]): void {
    for (const [piece, active] of this.active) {
      if (!has(piece)) continue
      for (let block = 0; block < active.blocks.length && picked.length < max; block++) {
        if (active.blocks[block] !== REQUESTED || active.requesters[block]! >= ENDGAME_REQUESTERS || asked(piece, block * BLOCK_SIZE)) continue
        active.requesters[block]!++
        picked.push(this.blockRef(piece, block))
      }
    }
  }

  /** Every missing piece is started and none has a block nobody was asked for. */
  private inEndgame (): boolean {
    if (this.active.size + this.verifiedTotal < this.pieceCount) return false
    for (const active of this.active.values()) if (active.blocks.includes(FREE)) return false
    return true
  }

  private rarestMissing (has: (piece: number) => boolean): number | undefined {
    let best: number | undefined
    let bestCount = Infinity
    const start = Math.floor(this.random() * this.pieceCount)
    for (let step = 0; step < this.pieceCount; step++) {
      const piece = (start + step) % this.pieceCount
      if (this.verified[piece] === 1 || this.active.has(piece) || !has(piece)) continue
      const count = this.availability[piece]!
      if (count < bestCount) {
        best = piece
        bestCount = count
        if (count <= 1) break
      }
    }
    return best
  }

  private blockRef (piece: number, block: number): BlockRef {
    const offset = block * BLOCK_SIZE
    return { piece, offset, length: Math.min(BLOCK_SIZE, this.pieceLengthOf(piece) - offset) }
  }
}
