import { EventEmitter } from 'node:events'
import { isIP } from 'node:net'
import { parseTorrent, type InfoHash, type Metainfo } from '../metainfo/metainfo.js'
import { makePeerId } from '../seeder/peer-id.js'
import { planContent, type ContentLayout } from './content-layout.js'
import { DownloadError } from './download-errors.js'
import { DEFAULT_DOWNLOAD_LIMITS, type DownloadLimits } from './download-limits.js'
import { PeerLink, type PeerLinkListener } from './peer-link.js'
import { BLOCK_SIZE, PiecePicker, type BlockRef } from './piece-picker.js'
import { PieceStore } from './piece-store.js'
import { ResumeFile } from './resume-state.js'
import { SafeFolder } from './safe-folder.js'
import { WebSeed } from './web-seed.js'

export interface PeerEndpoint {
  readonly host: string
  readonly port: number
}

export interface DownloadOptions {
  readonly infoHash: InfoHash
  /** A `.torrent` file or a bare info dictionary; refused (ET_BAD_METADATA) unless it hashes to `infoHash`. Without it the info dictionary comes from peers (BEP 9). */
  readonly metainfo?: Uint8Array
  /** Peers to dial (IP literals); more come later through `addPeers`. */
  readonly peers?: readonly PeerEndpoint[]
  /** BEP 19 web seeds, besides the torrent's own `url-list`. */
  readonly webSeeds?: readonly string[]
  /** The folder the torrent's name (its file or folder) goes in. */
  readonly folder: string
  /** The state file recording the verified pieces, for resuming after a stop or a crash. */
  readonly resumePath: string
  readonly limits?: Partial<DownloadLimits>
  readonly peerId?: Buffer
}

export interface DownloadProgress {
  readonly verifiedPieces: number
  readonly pieceCount: number
  readonly verifiedBytes: number
  readonly totalBytes: number
  /** Piece bytes received this run, from peers and web seeds, wanted or not. */
  readonly receivedBytes: number
  readonly peers: number
}

export interface DownloadedFile {
  /** Below the download's folder. */
  readonly path: string
  readonly length: number
}

export interface DownloadResult {
  readonly metainfo: Metainfo
  /** The files written, each piece of them verified (BEP 47 pad files are not written). */
  readonly files: readonly DownloadedFile[]
  /** Pieces found verified on disk at the start (from the resume state, checked again). */
  readonly resumedPieces: number
  readonly receivedBytes: number
}

export interface DownloadEvents {
  metadata: [metainfo: Metainfo]
  progress: [progress: DownloadProgress]
  peer: [event: { readonly address: string, readonly event: 'connected' | 'closed' | 'banned', readonly reason?: string }]
  'web-seed': [event: { readonly url: string, readonly event: 'failed' | 'abandoned' | 'banned', readonly reason: string }]
  done: [result: DownloadResult]
  error: [error: DownloadError]
}

/** A source of blocks: one peer link, or one web seed. */
type SourceId = number

/** Blocks of a piece that failed its hash and who sent each, kept until the piece is verified. */
interface Suspect {
  readonly digests: Buffer
  readonly sources: Int32Array
}

/** At most this many failed pieces are remembered for telling which peer sent the bad blocks. */
const MAX_SUSPECTS = 64

/**
 * One torrent downloaded into a folder: the metadata from the options or from peers (BEP 9), the
 * pieces from peers and web seeds (BEP 19), each verified (SHA-1) before it counts, the verified ones
 * recorded in a resume file. A peer whose blocks fail a hash is banned (by IP), a web seed likewise
 * dropped. Bounded throughout (see DownloadLimits). `start`, then `finished` (or the `done`/`error`
 * events); `close` stops it, keeping what was verified.
 */
export class Download extends EventEmitter<DownloadEvents> {
  readonly infoHash: InfoHash
  /** Resolves with the result once every piece is verified; rejects with a DownloadError. */
  readonly finished: Promise<DownloadResult>
  private readonly options: DownloadOptions
  private readonly limits: DownloadLimits
  private readonly peerId: Buffer
  private readonly abort = new AbortController()
  private resolveFinished!: (result: DownloadResult) => void
  private rejectFinished!: (error: DownloadError) => void
  private metainfo: Metainfo | undefined
  private layout: ContentLayout | undefined
  private folder: SafeFolder | undefined
  private store: PieceStore | undefined
  private picker: PiecePicker | undefined
  private resume: ResumeFile | undefined
  private readonly links = new Map<SourceId, PeerLink>()
  private readonly waiting: PeerEndpoint[] = []
  private readonly known = new Set<string>()
  private readonly attempts = new Map<string, number>()
  private readonly bannedHosts = new Set<string>()
  private readonly bannedSources = new Set<SourceId>()
  private readonly sources = new Map<number, Int32Array>()
  private readonly suspects = new Map<number, Suspect>()
  private readonly sourceNames = new Map<SourceId, string>()
  private readonly timers = new Set<NodeJS.Timeout>()
  private nextSourceId = 1
  private metadataLinks = 0
  private writingBytes = 0
  private receivedBytes = 0
  private resumedPieces = 0
  private verifiedSinceSave = 0
  private lastSave = Date.now()
  private saving: Promise<void> | undefined
  private saveAgain = false
  private state: 'new' | 'running' | 'done' | 'failed' = 'new'
  private readonly wakers = new Set<() => void>()

  constructor (options: DownloadOptions) {
    super()
    this.options = options
    this.infoHash = options.infoHash.toLowerCase() as InfoHash
    this.limits = { ...DEFAULT_DOWNLOAD_LIMITS, ...options.limits }
    this.peerId = options.peerId ?? makePeerId()
    this.finished = new Promise((resolve, reject) => {
      this.resolveFinished = resolve
      this.rejectFinished = reject
    })
    this.finished.catch(() => undefined)
  }

  get progress (): DownloadProgress {
    const picker = this.picker
    return {
      verifiedPieces: picker?.verifiedCount ?? 0,
      pieceCount: picker?.pieceCount ?? 0,
      verifiedBytes: picker === undefined ? 0 : this.verifiedBytes(picker),
      totalBytes: this.metainfo?.totalBytes ?? 0,
      receivedBytes: this.receivedBytes,
      peers: this.links.size
    }
  }

  async start (): Promise<void> {
    if (this.state !== 'new') return
    this.state = 'running'
    try {
      if (this.options.metainfo !== undefined) await this.useMetainfo(this.given(this.options.metainfo))
      if (this.state !== 'running') return
      this.addPeers(this.options.peers ?? [])
    } catch (error) {
      this.fail(error)
    }
  }

  /** More peers to try (a tracker's answer, the DHT, PEX): IP literals; duplicates, banned hosts and any beyond the bound are ignored. */
  addPeers (peers: readonly PeerEndpoint[]): void {
    for (const peer of peers) {
      const key = `${peer.host}|${peer.port}`
      if (isIP(peer.host) === 0 || !Number.isInteger(peer.port) || peer.port < 1 || peer.port > 65535) continue
      if (this.known.has(key) || this.bannedHosts.has(peer.host) || this.known.size >= this.limits.maxKnownPeers) continue
      this.known.add(key)
      this.waiting.push(peer)
    }
    this.dial()
  }

  /** Stops: connections closed, the resume state saved; `finished` rejects with ET_ABORTED unless it was done. */
  async close (): Promise<void> {
    if (this.state === 'done' || this.state === 'failed') {
      await this.saving
      return
    }
    this.fail(new DownloadError('ET_ABORTED', `the download of ${this.infoHash} was stopped`))
    await this.saving
  }

  private given (bytes: Uint8Array): Metainfo {
    const asTorrent = parsed(bytes)
    const metainfo = asTorrent instanceof Error || asTorrent.infoHash !== this.infoHash ? parsed(Buffer.concat([Buffer.from('d4:info'), bytes, Buffer.from('e')])) : asTorrent
    if (metainfo instanceof Error) {
      const detail = asTorrent instanceof Error && !asTorrent.message.includes('no info dictionary') ? asTorrent : metainfo
      throw new DownloadError('ET_BAD_METADATA', `the metainfo of ${this.infoHash} is refused: ${detail.message}`, { cause: detail })
    }
    if (metainfo.infoHash !== this.infoHash) throw new DownloadError('ET_BAD_METADATA', `the metainfo given is of ${metainfo.infoHash}, not of ${this.infoHash}`)
    return metainfo
  }

  private async useMetainfo (metainfo: Metainfo): Promise<void> {
    this.metainfo = metainfo
    this.emit('metadata', metainfo)
    const layout = planContent(metainfo)
    this.layout = layout
    const folder = await SafeFolder.prepare(this.options.folder, layout, this.limits.maxOpenFiles)
    this.folder = folder
    if (this.state !== 'running') {
      await folder.close()
      return
    }
    this.store = new PieceStore(metainfo, layout, folder)
    const picker = new PiecePicker({ pieceCount: metainfo.pieceCount, pieceLength: metainfo.pieceLength, totalBytes: metainfo.totalBytes, maxActivePieces: this.limits.maxActivePieces })
    this.resume = new ResumeFile(this.options.resumePath, this.infoHash, metainfo.pieceCount)
    await this.recheck(picker)
    if (this.state !== 'running') return
    this.picker = picker
    this.emit('progress', this.progress)
    if (picker.complete) return await this.complete()
    for (const link of this.links.values()) {
      picker.countPeer((index) => link.has(index), 1)
      this.opened(link)
    }
    for (const url of new Set([...metainfo.urlList, ...(this.options.webSeeds ?? [])])) this.startWebSeed(url)
    this.dial()
  }

  /** The pieces the resume file records, read back and checked again: only those that still hash right count. */
  private async recheck (picker: PiecePicker): Promise<void> {
    const recorded = await this.resume!.load().catch(() => undefined)
    if (recorded === undefined) return
    for (let piece = 0; piece < picker.pieceCount && this.state === 'running'; piece++) {
      if ((recorded[piece >> 3]! & (0x80 >> (piece & 7))) === 0) continue
      if ((await this.store!.verify(piece)).ok) picker.pieceVerified(piece)
    }
    this.resumedPieces = picker.verifiedCount
  }

  private dial (): void {
    if (this.state !== 'running') return
    const max = this.metainfo === undefined ? this.limits.maxMetadataPeers : this.limits.maxPeers
    while (this.links.size < max && this.waiting.length > 0) {
      const peer = this.waiting.shift()!
      if (this.bannedHosts.has(peer.host)) continue
      this.connect(peer)
    }
  }

  private connect (peer: PeerEndpoint): void {
    const id = this.nextSourceId++
    const wantsMetadata = this.metainfo === undefined
    if (wantsMetadata) this.metadataLinks++
    const link = new PeerLink(id, {
      host: peer.host,
      port: peer.port,
      infoHash: this.infoHash,
      peerId: this.peerId,
      metadataMaxBytes: wantsMetadata ? this.limits.maxMetadataBytes : undefined,
      connectTimeoutMs: this.limits.connectTimeoutMs,
      requestTimeoutMs: this.limits.requestTimeoutMs,
      idleTimeoutMs: this.limits.idleTimeoutMs
    }, this.linkListener(peer, wantsMetadata))
    this.links.set(id, link)
    this.sourceNames.set(id, link.address)
  }

  private linkListener (peer: PeerEndpoint, wantsMetadata: boolean): PeerLinkListener {
    return {
      opened: (link) => {
        this.emit('peer', { address: link.address, event: 'connected' })
        this.opened(link)
      },
      piecesChanged: (link, piece) => {
        const picker = this.picker
        if (picker === undefined) return
        if (piece === undefined) picker.countPeer((index) => link.has(index), 1)
        else picker.countHave(piece)
        this.refill(link)
      },
      unchoked: (link) => { this.refill(link) },
      block: (link, request, data) => this.onBlock(link, request, data),
      dropped: (_link, request) => {
        this.picker?.blockDropped(request.piece, request.offset)
        this.wake()
        this.refillAll()
      },
      metadata: (_link, infoBytes) => { void this.onMetadata(infoBytes) },
      metadataFailed: (link, reason) => { link.close(`no metadata: ${reason}`) },
      closed: (link, reason) => {
        this.links.delete(link.id)
        if (wantsMetadata) this.metadataLinks--
        this.picker?.countPeer((index) => link.has(index), -1)
        this.emit('peer', { address: link.address, event: 'closed', reason })
        this.retryLater(peer)
        this.dial()
        this.refillAll()
      }
    }
  }

  private opened (link: PeerLink): void {
    if (this.picker === undefined || this.picker.complete) return
    link.interested()
    this.refill(link)
  }

  /** A peer that left may come back: it is tried again a few times, later each time. */
  private retryLater (peer: PeerEndpoint): void {
    if (this.state !== 'running' || this.bannedHosts.has(peer.host)) return
    const key = `${peer.host}|${peer.port}`
    const attempts = (this.attempts.get(key) ?? 0) + 1
    this.attempts.set(key, attempts)
    if (attempts > this.limits.peerAttempts) return
    this.later(() => {
      this.waiting.push(peer)
      this.dial()
    }, this.limits.retryDelayMs * attempts)
  }

  private async onMetadata (infoBytes: Buffer): Promise<void> {
    if (this.metainfo !== undefined || this.state !== 'running') return
    try {
      await this.useMetainfo(this.given(infoBytes))
    } catch (error) {
      this.fail(error)
    }
  }

  private refill (link: PeerLink): void {
    const picker = this.picker
    if (picker === undefined || !link.unchoked || this.state !== 'running') return
    if (this.writingBytes >= this.limits.maxWritingBytes) return
    const want = this.limits.maxRequestsPerPeer - link.requestCount
    if (want <= 0) return
    for (const block of picker.pick((piece) => link.has(piece), want, (piece, offset) => link.asked(piece, offset))) link.request(block)
  }

  private refillAll (): void {
    for (const link of this.links.values()) this.refill(link)
  }

  private onBlock (link: PeerLink, request: BlockRef, data: Uint8Array): void {
    this.receivedBytes += data.length
    const picker = this.picker
    const ticket = picker?.blockArrived(request.piece, request.offset, data.length)
    if (picker === undefined || ticket === undefined) {
      this.refill(link)
      return
    }
    this.sourcesOf(request.piece)[request.offset / BLOCK_SIZE] = link.id
    for (const other of this.links.values()) if (other !== link) other.cancel(request)
    this.writingBytes += data.length
    this.store!.writeBlock(request.piece, request.offset, data).then(() => {
      this.writingBytes -= data.length
      if (picker.blockWritten(request.piece, ticket)) void this.verify(request.piece)
      this.refillAll()
    }, (error: unknown) => this.fail(error))
    this.refill(link)
  }

  private sourcesOf (piece: number): Int32Array {
    let sources = this.sources.get(piece)
    if (sources === undefined) {
      sources = new Int32Array(this.picker!.blockCount(piece))
      this.sources.set(piece, sources)
    }
    return sources
  }

  private async verify (piece: number): Promise<void> {
    const picker = this.picker!
    const suspect = this.suspects.get(piece)
    const sources = this.sourcesOf(piece)
    const contributors = new Set(sources)
    let check
    try {
      check = await this.store!.verify(piece, suspect !== undefined || contributors.size > 1)
    } catch (error) {
      this.fail(error)
      return
    }
    if (this.state !== 'running') return
    this.sources.delete(piece)
    if (check.ok) {
      picker.pieceVerified(piece)
      if (suspect !== undefined) this.blameBlocks(suspect, check.blockDigests!)
      this.suspects.delete(piece)
      for (const link of this.links.values()) link.have(piece)
      this.emit('progress', this.progress)
      this.verifiedSinceSave++
      if (picker.complete) return await this.complete()
      this.saveSoon()
    } else {
      picker.pieceFailed(piece)
      if (contributors.size === 1) this.ban([...contributors][0]!, `sent piece ${piece}, which failed its hash`)
      else this.remember(piece, { digests: check.blockDigests!, sources })
    }
    // A piece done or dropped frees a place among the active pieces.
    this.refillAll()
    this.wake()
  }

  /** The piece is good now: whoever sent a block that differs from the good one sent bad data. */
  private blameBlocks (suspect: Suspect, good: Buffer): void {
    for (let block = 0; block < suspect.sources.length; block++) {
      if (!suspect.digests.subarray(block * 20, block * 20 + 20).equals(good.subarray(block * 20, block * 20 + 20))) {
        this.ban(suspect.sources[block]!, 'sent a block that failed its piece\'s hash')
      }
    }
  }

  private remember (piece: number, suspect: Suspect): void {
    if (this.suspects.size >= MAX_SUSPECTS) this.suspects.delete(this.suspects.keys().next().value!)
    this.suspects.set(piece, suspect)
  }

  private ban (source: SourceId, reason: string): void {
    if (this.bannedSources.has(source)) return
    this.bannedSources.add(source)
    const link = this.links.get(source)
    const name = this.sourceNames.get(source) ?? String(source)
    if (link !== undefined || name.includes(':')) {
      const host = name.startsWith('[') ? name.slice(1, name.indexOf(']')) : name.slice(0, name.lastIndexOf(':'))
      if (!name.startsWith('http')) this.bannedHosts.add(host)
    }
    if (name.startsWith('http')) this.emit('web-seed', { url: name, event: 'banned', reason })
    else this.emit('peer', { address: name, event: 'banned', reason })
    link?.close(`banned: ${reason}`)
  }

  private startWebSeed (url: string): void {
    if (!/^https?:\/\//i.test(url)) return
    const id = this.nextSourceId++
    this.sourceNames.set(id, url)
    const seed = new WebSeed(url, this.metainfo!, this.layout!, this.limits.requestTimeoutMs)
    for (let lane = 0; lane < this.limits.webSeedPieces; lane++) void this.webSeedLane(id, seed)
  }

  /** One piece at a time from a web seed, until the download ends or the seed failed too often in a row. */
  private async webSeedLane (id: SourceId, seed: WebSeed): Promise<void> {
    let failures = 0
    while (this.state === 'running' && !this.bannedSources.has(id)) {
      const picker = this.picker!
      const piece = this.writingBytes < this.limits.maxWritingBytes ? picker.claimPiece(() => true) : undefined
      if (piece === undefined) {
        await this.changed()
        continue
      }
      try {
        await seed.fetchPiece(piece, picker.pieceLengthOf(piece), async (offset, bytes) => {
          this.receivedBytes += bytes.length
          await this.store!.writeBlock(piece, offset, bytes)
        }, this.abort.signal)
        failures = 0
      } catch (error) {
        picker.releasePiece(piece)
        if (this.state !== 'running') return
        failures++
        const reason = error instanceof Error ? error.message : String(error)
        this.emit('web-seed', { url: seed.url, event: failures >= this.limits.webSeedFailures ? 'abandoned' : 'failed', reason })
        if (failures >= this.limits.webSeedFailures) return
        await this.delay(this.limits.retryDelayMs * failures)
        continue
      }
      this.webSeedDelivered(id, piece)
    }
  }

  private webSeedDelivered (id: SourceId, piece: number): void {
    const picker = this.picker!
    const sources = this.sourcesOf(piece)
    let whole = false
    for (let block = 0; block < picker.blockCount(piece); block++) {
      const offset = block * BLOCK_SIZE
      const ticket = picker.blockArrived(piece, offset, Math.min(BLOCK_SIZE, picker.pieceLengthOf(piece) - offset))
      if (ticket === undefined) continue
      sources[block] = id
      if (picker.blockWritten(piece, ticket)) whole = true
    }
    if (whole) void this.verify(piece)
  }

  private saveSoon (): void {
    const due = this.verifiedSinceSave >= this.limits.resumeEveryPieces || Date.now() - this.lastSave >= this.limits.resumeEveryMs
    if (due) void this.saveResume()
  }

  /** One save at a time; a save asked for meanwhile runs after it, with the newest bitfield. */
  private async saveResume (): Promise<void> {
    if (this.resume === undefined || this.picker === undefined) return
    if (this.saving !== undefined) {
      this.saveAgain = true
      return await this.saving
    }
    this.verifiedSinceSave = 0
    this.lastSave = Date.now()
    const resume = this.resume
    const bitfield = this.picker.bitfield()
    this.saving = resume.save(bitfield).catch(() => undefined).finally(() => { this.saving = undefined })
    await this.saving
    if (this.saveAgain) {
      this.saveAgain = false
      await this.saveResume()
    }
  }

  private async complete (): Promise<void> {
    if (this.state !== 'running') return
    this.state = 'done'
    await this.saveResume()
    this.stopAll()
    await this.folder?.close()
    const metainfo = this.metainfo!
    const files = this.layout!.files.filter((file) => !file.pad).map((file) => ({ path: file.segments.join('/'), length: file.length }))
    const result: DownloadResult = { metainfo, files, resumedPieces: this.resumedPieces, receivedBytes: this.receivedBytes }
    this.resolveFinished(result)
    this.emit('done', result)
  }

  private fail (error: unknown): void {
    if (this.state === 'done' || this.state === 'failed') return
    const wasRunning = this.picker !== undefined
    this.state = 'failed'
    const failure = error instanceof DownloadError ? error : new DownloadError('ET_DOWNLOAD_IO', `the download of ${this.infoHash} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error })
    this.stopAll()
    const folder = this.folder
    this.saving = (async () => {
      await this.saving
      if (wasRunning) await this.resume!.save(this.picker!.bitfield()).catch(() => undefined)
      await folder?.close()
    })()
    this.rejectFinished(failure)
    if (this.listenerCount('error') > 0) this.emit('error', failure)
  }

  private stopAll (): void {
    this.abort.abort()
    for (const timer of this.timers) clearTimeout(timer)
    this.timers.clear()
    for (const link of [...this.links.values()]) link.close('download ended')
    this.wake()
  }

  private verifiedBytes (picker: PiecePicker): number {
    const { pieceLength, totalBytes } = this.metainfo!
    const lastPiece = picker.pieceCount - 1
    const last = picker.isVerified(lastPiece) ? totalBytes - lastPiece * pieceLength : 0
    return (picker.verifiedCount - (last > 0 ? 1 : 0)) * pieceLength + last
  }

  private later (run: () => void, ms: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer)
      run()
    }, ms)
    this.timers.add(timer)
  }

  private async delay (ms: number): Promise<void> {
    await new Promise<void>((resolve) => this.later(resolve, ms))
  }

  /** Resolves at the next change that may free work for a web seed (a piece verified or failed, a block dropped), or within a second. */
  private async changed (): Promise<void> {
    await new Promise<void>((resolve) => {
      const done = (): void => {
        this.wakers.delete(done)
        resolve()
      }
      this.wakers.add(done)
      this.later(done, 1000)
    })
  }

  private wake (): void {
    for (const waker of [...this.wakers]) waker()
  }
}

/** A `.torrent` file's metainfo, or why it is not one. */
function parsed (bytes: Uint8Array): Metainfo | Error {
  try {
    return parseTorrent(bytes)
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error))
  }
}
