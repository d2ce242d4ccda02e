import { EventEmitter } from 'node:events'
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { truncatedV2Of, type Catalog, type PublishedTorrent } from '../catalog/catalog.js'
import type { Settings } from '../config/settings.js'
import type { InfoHash } from '../metainfo/metainfo.js'
import { addressKey, ConnectionGate } from '../net/connection-gate.js'
import { formatPeerAddress, parsePeerAddress, type PeerAddress } from '../net/peer-address.js'
import { VERSION } from '../version.js'
import { decideUnchokes, type OptimisticSlot } from './choker.js'
import { BlockPool } from './block-pool.js'
import { ContentReader, readAheadFor } from './content-reader.js'
import { HashAnswerer } from './hash-answerer.js'
import { isTorrentError, isTransientError, SeederError, type TorrentErrorCode } from './errors.js'
import { LocalDiscovery } from './local-discovery.js'
import { prepareDiffieHellman } from './mse/diffie-hellman.js'
import { CRYPTO_PLAINTEXT, CRYPTO_RC4 } from './mse/mse-handshake.js'
import { SkeyIndex } from './mse/skey-index.js'
import { makePeerId } from './peer-id.js'
import { PeerSession, type SessionHost } from './peer-session.js'
import { PexExchange } from './pex-exchange.js'
import { MAX_BLOCK_LENGTH } from './piece-request.js'
import { chooseReplaced, REPLACE_AFTER_MS, ReplacedHosts, type ReplacementCandidate } from './replacement.js'
import type { DisconnectReason, PeerDirection, SeederEvents } from './seeder-events.js'
import { resolveSeederOptions, seederOptionsFrom, type ResolvedSeederOptions, type SeederOptions } from './seeder-options.js'
import { TokenBucket } from './token-bucket.js'
import { TrackerAnnouncer } from './tracker-announcer.js'
import { UploadScheduler } from './upload-scheduler.js'

/** Outgoing connections still in their TCP handshake, so a long peer list cannot flood the uplink with SYNs. */
export const MAX_HALF_OPEN = 16
/** How often 'uploaded' events report the bytes sent per torrent. */
const UPLOAD_REPORT_MS = 1000
/** How often peers are checked for stalled sends and unused slots, so they lose them within a second of `stallMs`. */
const STALL_CHECK_MS = 1000
/** How often the PEX updates that fell due are sent: each peer hears from us every 60 to 65 s (BEP 11). */
const PEX_CHECK_MS = 5000
/** At most one warning this often while reads fail for lack of file descriptors or memory. */
const TRANSIENT_WARNING_MS = 60_000

export interface TorrentStats {
  readonly infoHash: InfoHash
  readonly peers: number
  /** Piece bytes sent since the seeder started (or since the torrent was published again). */
  readonly uploadedBytes: number
  readonly error?: TorrentErrorCode
}

export interface SeederStats {
  /** Open peer connections, handshaking ones included. */
  readonly connections: number
  /** Peers that joined a swarm. */
  readonly peers: number
  /** Of `peers`, those whose connection is MSE with RC4. */
  readonly encryptedPeers: number
  /** Connections that ended before joining a swarm since the seeder started, by reason (see DisconnectReason). */
  readonly refused: Readonly<Partial<Record<DisconnectReason, number>>>
  readonly unchoked: number
  readonly uploadedBytes: number
  readonly cachedBytes: number
  /** Bytes of block buffers being read into or queued on sockets; never more than `queuedBytes`. */
  readonly queuedBytes: number
  readonly openFiles: number
  /** BEP 11 `ut_pex` messages sent, and the peers named as added in them. */
  readonly pex: { readonly messagesSent: number, readonly peersAdvertised: number }
  /** Torrents with peers, uploads or an error; idle torrents are not listed. */
  readonly torrents: readonly TorrentStats[]
}

type State = 'new' | 'starting' | 'started' | 'closing' | 'closed'

/**
 * The everseed: one TCP port that seeds every torrent of the catalog, for as long as it is published.
 * Peers find it through our tracker, extra trackers in the torrents, BEP 14 LSD, or by address.
 * Per-torrent state exists only while a torrent has peers (or an error, or foreign trackers).
 */
export class Seeder extends EventEmitter<SeederEvents> {
  readonly peerId: Buffer = makePeerId()
  private options: ResolvedSeederOptions
  private readonly catalog: Catalog
  private readonly reader: ContentReader
  private readonly blocks: BlockPool
  private readonly hashes: HashAnswerer
  private readonly scheduler: UploadScheduler
  private readonly uploadBucket: TokenBucket
  private readonly server: Server
  /** Counts every connection, in all and per address, against `maxConnections` and `maxConnectionsPerAddress`. */
  private readonly gate: ConnectionGate
  /** Every open connection, with the address it is counted under in the gate. */
  private readonly sessions = new Map<PeerSession, string>()
  private readonly replacedHosts: ReplacedHosts
  private readonly swarms = new Map<InfoHash, Set<PeerSession>>()
  /** Outgoing connections by the torrent and address they dial, `infohash/host:port`. */
  private readonly dialing = new Map<PeerSession, { readonly key: string, readonly infoHash: InfoHash, readonly peer: PeerAddress }>()
  /** Every published infohash (and hybrid's truncated v2 infohash) by HASH('req2', infohash), for MSE responders. */
  private readonly skeys = new SkeyIndex()
  private readonly refusedCounts = new Map<DisconnectReason, number>()
  private readonly uploadedBytes = new Map<InfoHash, number>()
  private readonly unreported = new Map<InfoHash, number>()
  private readonly failed = new Map<InfoHash, TorrentErrorCode>()
  private readonly host: SessionHost
  private readonly pex = new PexExchange<PeerSession>()
  private lsd: LocalDiscovery | undefined
  private trackers: TrackerAnnouncer | undefined
  private optimistic: OptimisticSlot | undefined
  private totalUploaded = 0
  private transientWarnedAt = Number.NEGATIVE_INFINITY
  private nextKey = 1
  private state: State = 'new'
  private rechokeTimer: NodeJS.Timeout | undefined
  private stallTimer: NodeJS.Timeout | undefined
  private rechokeImmediate: NodeJS.Immediate | undefined
  private reportTimer: NodeJS.Timeout | undefined
  private pexTimer: NodeJS.Timeout | undefined
  private pexImmediate: NodeJS.Immediate | undefined
  private listenPort = 0
  private starting: Promise<void> | undefined
  private closing: Promise<void> | undefined

  constructor (options: SeederOptions) {
    super()
    this.options = resolveSeederOptions(options)
    this.catalog = options.catalog
    this.reader = new ContentReader({
      cacheBytes: this.options.cacheBytes,
      readAheadBytes: readAheadFor(this.options.readAheadBytes, this.options.cacheBytes),
      maxOpenFiles: this.options.maxOpenFiles,
      ...(this.options.openFile !== undefined && { openFile: this.options.openFile })
    })
    this.hashes = new HashAnswerer({ readBlock: async (torrent, index, offset, block) => await this.reader.readBlock(torrent, index, offset, block) })
    this.gate = new ConnectionGate({ total: this.options.maxConnections, perAddress: this.options.maxConnectionsPerAddress })
    this.replacedHosts = new ReplacedHosts(REPLACE_AFTER_MS, this.options.maxConnections)
    this.uploadBucket = new TokenBucket(this.options.uploadRateLimit, MAX_BLOCK_LENGTH, this.options.now())
    this.blocks = new BlockPool(this.options.queuedBytes, () => this.scheduler.wake())
    this.scheduler = new UploadScheduler(this.uploadBucket, this.blocks, this.options.now)
    this.server = createServer((socket) => this.onIncoming(socket))
    this.host = this.sessionHost()
  }

  /** The TCP port peers connect to; the real one after `start()` when 0 was asked for. */
  get port (): number {
    return this.listenPort
  }

  async start (): Promise<void> {
    if (this.state !== 'new' || this.closing !== undefined) throw new SeederError('ET_STATE', 'the seeder can only be started once, and not after close()')
    this.state = 'starting'
    this.starting = this.open()
    await this.starting
  }

  private async open (): Promise<void> {
    await this.listen()
    this.state = 'started'
    this.catalog.on('added', this.onAdded)
    this.catalog.on('removed', this.onRemoved)
    for (const torrent of this.catalog.all()) for (const name of handshakeNames(torrent)) this.skeys.add(name)
    if (this.options.encryption !== 'off') prepareDiffieHellman()
    this.rechokeTimer = setInterval(() => this.rechoke(), this.options.rechokeIntervalMs)
    this.stallTimer = setInterval(() => this.checkStalls(), STALL_CHECK_MS)
    this.reportTimer = setInterval(() => this.reportUploads(), UPLOAD_REPORT_MS)
    if (this.options.pex) this.pexTimer = setInterval(() => this.exchangePeers(), PEX_CHECK_MS)
    this.trackers = new TrackerAnnouncer({
      peerId: this.peerId,
      port: this.listenPort,
      isOwnTracker: this.options.isOwnTracker,
      uploaded: (infoHash) => this.uploadedBytes.get(infoHash) ?? 0,
      onPeer: (infoHash, peer) => this.dial(infoHash, peer),
      onWarning: (infoHash, message) => this.emit('warning', { code: 'ET_TRACKER', message, infoHash })
    })
    for (const torrent of this.catalog.all()) this.trackers.add(torrent.metainfo)
    await this.startLsd()
  }

  /** Stops accepting, ends every connection, stops announcing, closes files; resolves when all is released. */
  async close (): Promise<void> {
    this.closing ??= this.shutdown()
    await this.closing
  }

  private async shutdown (): Promise<void> {
    await this.starting?.catch(() => {})
    this.state = 'closing'
    this.catalog.off('added', this.onAdded)
    this.catalog.off('removed', this.onRemoved)
    clearInterval(this.rechokeTimer)
    clearInterval(this.stallTimer)
    clearInterval(this.reportTimer)
    clearInterval(this.pexTimer)
    clearImmediate(this.pexImmediate)
    clearImmediate(this.rechokeImmediate)
    this.scheduler.close()
    const serverClosed = new Promise<void>((resolve) => this.server.close(() => resolve()))
    const sockets = [...this.sessions.keys()].map((session) => session.whenClosed)
    for (const session of [...this.sessions.keys()]) session.close('shutdown')
    await Promise.all([
      serverClosed,
      ...sockets,
      this.lsd?.close(),
      this.trackers?.close()
    ])
    await this.reader.close()
    this.reportUploads()
    this.state = 'closed'
  }

  /**
   * New settings while running (a config reload); no peer is disconnected. Connection limits, rates,
   * request queues and timeouts reach every peer at once, connected ones included; slots change at the
   * next rechoke; a lower connection limit holds back new peers only. What is set up at start (port,
   * host, cache, block pool, open files, LSD, PEX) stays as started.
   */
  apply (settings: Settings): void {
    const { port, host, cacheBytes, queuedBytes, maxOpenFiles, lsd, pex, ...running } = seederOptionsFrom(settings)
    this.options = { ...this.options, ...running }
    this.gate.setLimits({ total: this.options.maxConnections, perAddress: this.options.maxConnectionsPerAddress })
    const now = this.options.now()
    this.uploadBucket.setRate(this.options.uploadRateLimit, now)
    for (const session of this.sessions.keys()) session.limitsChanged(now)
    this.scheduler.wake()
    this.rechokeSoon()
  }

  stats (): SeederStats {
    const infoHashes = new Set([...this.swarms.keys(), ...this.uploadedBytes.keys(), ...this.failed.keys()])
    let peers = 0
    let encryptedPeers = 0
    let unchoked = 0
    for (const swarm of this.swarms.values()) {
      peers += swarm.size
      for (const session of swarm) {
        if (session.unchoked) unchoked++
        if (session.encrypted) encryptedPeers++
      }
    }
    return {
      connections: this.sessions.size,
      peers,
      encryptedPeers,
      refused: Object.fromEntries(this.refusedCounts),
      unchoked,
      uploadedBytes: this.totalUploaded,
      cachedBytes: this.reader.cachedBytes,
      queuedBytes: this.blocks.lentBytes,
      openFiles: this.reader.openFiles,
      pex: { messagesSent: this.pex.messagesSent, peersAdvertised: this.pex.peersAdvertised },
      torrents: [...infoHashes].map((infoHash) => {
        const error = this.failed.get(infoHash)
        return {
          infoHash,
          peers: this.swarms.get(infoHash)?.size ?? 0,
          uploadedBytes: this.uploadedBytes.get(infoHash) ?? 0,
          ...(error !== undefined && { error })
        }
      })
    }
  }

  private async listen (): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen({ port: this.options.port, ...(this.options.host !== undefined && { host: this.options.host }) }, () => {
        this.server.off('error', reject)
        // Accepting can fail later (EMFILE when out of file descriptors): the seeder goes on.
        this.server.on('error', (error) => this.emit('warning', { code: 'ET_LISTEN', message: `accepting a peer failed: ${error.message}` }))
        resolve()
      })
    }).catch((error: NodeJS.ErrnoException) => {
      this.state = 'closed'
      const where = `${this.options.host ?? '*'}:${this.options.port}`
      throw new SeederError('ET_LISTEN', `the seeder cannot listen on ${where} (${error.code ?? error.message}); pick another seeder port`, { cause: error })
    })
    this.listenPort = (this.server.address() as AddressInfo).port
  }

  private async startLsd (): Promise<void> {
    const lsd = this.options.lsd
    if (lsd === false) return
    const discovery = new LocalDiscovery({
      port: this.listenPort,
      interfaceAddress: lsd.interfaceAddress,
      lsdPort: lsd.port,
      intervalMs: lsd.intervalMs,
      acceptAnnounces: lsd.acceptAnnounces,
      infoHashes: () => this.lsdInfoHashes(),
      onPeer: (infoHash, ip, port) => this.dialLanPeer(infoHash, { ip, port }),
      onWarning: (message) => this.emit('warning', { code: 'ET_LSD', message })
    })
    try {
      await discovery.start()
      this.lsd = discovery
    } catch (error) {
      this.emit('warning', { code: 'ET_LSD', message: `local service discovery is off: ${error instanceof Error ? error.message : String(error)}` })
    }
  }

  /** BEP 27: a private torrent's peers come from its tracker only, never from LSD. */
  private * lsdInfoHashes (): Iterable<InfoHash> {
    for (const torrent of this.catalog.all()) {
      if (!torrent.metainfo.private && !this.failed.has(torrent.metainfo.infoHash)) yield torrent.metainfo.infoHash
    }
  }

  private readonly onAdded = (torrent: PublishedTorrent): void => {
    const { infoHash } = torrent.metainfo
    this.failed.delete(infoHash)
    for (const name of handshakeNames(torrent)) this.skeys.add(name)
    this.trackers?.add(torrent.metainfo)
    if (!torrent.metainfo.private) this.lsd?.announceSoon([infoHash])
  }

  private readonly onRemoved = (torrent: PublishedTorrent): void => {
    const { infoHash } = torrent.metainfo
    this.endSwarm(infoHash, 'torrent-removed')
    for (const name of handshakeNames(torrent)) this.skeys.remove(name)
    this.failed.delete(infoHash)
    this.uploadedBytes.delete(infoHash)
    this.trackers?.remove(infoHash)
    this.reader.forget(torrent)
  }

  private onIncoming (socket: Socket): void {
    const host = socket.remoteAddress ?? ''
    const address = formatPeerAddress(host || 'unknown', socket.remotePort ?? 0)
    const refusal = this.state === 'started' ? this.makeRoomFor(host) : 'shutdown'
    if (refusal !== undefined) {
      socket.destroy()
      this.countRefusal(refusal)
      this.emit('peer-refused', { address, direction: 'incoming', reason: refusal })
      return
    }
    this.sessions.set(new PeerSession(socket, this.host, { key: this.nextKey++, direction: 'incoming', address }), host)
  }

  /**
   * Counts a newcomer from `host` in, or says why not. Over the per-address bound it is refused at
   * once; when every connection is taken, it replaces one that is still handshaking or asks for
   * nothing (see `chooseReplaced`), if there is one.
   */
  private makeRoomFor (host: string): DisconnectReason | undefined {
    if (host === '') return 'socket-error'
    const refusal = this.gate.admit(host)
    if (refusal !== 'connection-limit') return refusal
    // A lowered limit holds back newcomers until enough peers have left; nobody is replaced for them.
    if (this.gate.size > this.options.maxConnections) return refusal
    const key = addressKey(host)
    let fromHost = 0
    for (const counted of this.sessions.values()) if (addressKey(counted) === key) fromHost++
    if (fromHost >= this.options.maxConnectionsPerAddress) return 'address-limit'
    if (!this.replaceFor(host, [...this.sessions.keys()])) return refusal
    return this.gate.admit(host)
  }

  /** Closes the connection among `sessions` that a newcomer from `host` replaces (see `chooseReplaced`); false if none. */
  private replaceFor (host: string, sessions: readonly PeerSession[]): boolean {
    const now = this.options.now()
    if (this.replacedHosts.barred(host, now)) return false
    const key = chooseReplaced(sessions.map((session) => this.candidate(session, now)), now, REPLACE_AFTER_MS)
    const replaced = sessions.find((session) => session.key === key)
    if (replaced === undefined) return false
    this.replacedHosts.record(this.sessions.get(replaced)!, now)
    replaced.close('replaced')
    return true
  }

  private candidate (session: PeerSession, now: number): ReplacementCandidate {
    const handshaken = session.torrent !== undefined
    return { key: session.key, connectedAt: session.connectedAt, handshaken, idleSince: handshaken ? session.idleSince(now, this.options.stallMs) : undefined }
  }

  /**
   * Connects out to a leecher that announced to our own tracker, unless a peer from its host is
   * already in the swarm (it connected to us itself). Some clients (transmission) never connect to
   * loopback or link-local addresses, so without this they would wait for ever.
   */
  connectTo (infoHash: string, peer: PeerAddress): void {
    const torrent = this.catalog.get(this.catalog.canonicalHash(infoHash) ?? infoHash)
    if (torrent === undefined) return
    const ip = parsePeerAddress(formatPeerAddress(peer.ip, peer.port))?.ip
    for (const session of this.swarms.get(torrent.metainfo.infoHash) ?? []) {
      if (parsePeerAddress(session.address)?.ip === ip) return
    }
    this.dial(torrent.metainfo.infoHash, peer)
  }

  private dialLanPeer (infoHash: string, peer: PeerAddress): void {
    const torrent = this.catalog.get(infoHash)
    if (torrent !== undefined && !torrent.metainfo.private) this.dial(torrent.metainfo.infoHash, peer)
  }

  /**
   * Connects out to a peer of a published torrent, unless limits say no or we are already connected to
   * it; over MSE unless `encryption` is `off`, or this is the plaintext retry of a `prefer` seeder.
   */
  private dial (infoHash: InfoHash, peer: PeerAddress, plaintext = false): void {
    const torrent = this.catalog.get(infoHash)
    if (this.state !== 'started' || torrent === undefined || this.failed.has(infoHash)) return
    if ((this.swarms.get(infoHash)?.size ?? 0) >= this.options.maxConnectionsPerTorrent) return
    const address = formatPeerAddress(peer.ip, peer.port)
    const dialKey = `${infoHash}/${address}`
    let halfOpen = 0
    for (const [session, { key }] of this.dialing) {
      if (key === dialKey) return
      if (session.connecting) halfOpen++
    }
    if (halfOpen >= MAX_HALF_OPEN) return
    if (this.gate.admit(peer.ip) !== undefined) return
    const socket = connect({ host: peer.ip, port: peer.port })
    const encrypt = this.dialEncryption(plaintext)
    const session = new PeerSession(socket, this.host, { key: this.nextKey++, direction: 'outgoing', address, torrent, ...(encrypt !== undefined && { encrypt }) })
    this.sessions.set(session, peer.ip)
    this.dialing.set(session, { key: dialKey, infoHash, peer })
  }

  /** The crypto_provide bits a dial offers over MSE, or undefined for a plaintext dial. */
  private dialEncryption (plaintext: boolean): number | undefined {
    switch (this.options.encryption) {
      case 'require': return CRYPTO_RC4
      case 'prefer': return plaintext ? undefined : CRYPTO_RC4 | CRYPTO_PLAINTEXT
      case 'off': return undefined
    }
  }

  /**
   * libtorrent's "enabled" policy: a peer that did not finish our MSE handshake (it closed, timed out,
   * or speaks only plaintext) is dialled once more in plaintext, unless the connection ended for a
   * reason of ours.
   */
  private redialPlaintext (session: PeerSession, reason: DisconnectReason, dialed: { readonly infoHash: InfoHash, readonly peer: PeerAddress }): void {
    if (this.options.encryption !== 'prefer' || !session.mseUnfinished || this.state !== 'started') return
    if (reason === 'shutdown' || reason === 'replaced' || reason === 'torrent-removed' || reason === 'torrent-error') return
    this.dial(dialed.infoHash, dialed.peer, true)
  }

  /** The one host of every session: its limits are read from the options in force, so a reload reaches the sessions already open. */
  private sessionHost (): SessionHost {
    const options = (): ResolvedSeederOptions => this.options
    return {
      peerId: this.peerId,
      clientName: `evertorrent ${VERSION}`,
      get maxOutstandingRequests () { return options().maxOutstandingRequests },
      get peerUploadRateLimit () { return options().peerUploadRateLimit },
      pex: this.options.pex,
      get handshakeMs () { return options().handshakeMs },
      get idleMs () { return options().idleMs },
      get encryption () { return options().encryption },
      findTorrent: (req2Hash) => this.skeys.find(req2Hash),
      now: this.options.now,
      admit: (session, infoHash) => this.admit(session, infoHash),
      joined: (session) => this.joined(session),
      extensionsChanged: () => this.exchangePeersSoon(),
      interestChanged: () => this.rechokeSoon(),
      ready: (session) => this.scheduler.add(session),
      readBlock: async (torrent, index, offset, block) => await this.reader.readBlock(torrent, index, offset, block),
      answerHashRequest: async (torrent, request, mayRead) => await this.hashes.answer(torrent, request, mayRead),
      chargeUpload: (bytes) => { this.uploadBucket.take(bytes, this.options.now()) },
      copyCachedBlock: (torrent, index, offset, block) => this.reader.copyCachedBlock(torrent, index, offset, block),
      releaseBlock: (block) => this.blocks.release(block),
      readFailed: (session, error) => this.readFailed(session, error),
      uploaded: (session, bytes) => this.countUpload(session, bytes),
      closed: (session, reason) => this.closed(session, reason)
    }
  }

  /** A hybrid is admitted under its truncated v2 infohash too (BEP 52), into the one swarm of its infohash. */
  private admit (session: PeerSession, asked: InfoHash): PublishedTorrent | DisconnectReason {
    const infoHash = this.catalog.canonicalHash(asked)
    const torrent = infoHash === undefined ? undefined : this.catalog.get(infoHash)
    if (infoHash === undefined || torrent === undefined) return 'unknown-torrent'
    if (this.failed.has(infoHash)) return 'torrent-error'
    if (session.direction === 'incoming' && !this.makeRoomInSwarm(session, infoHash)) return 'connection-limit'
    return torrent
  }

  /** True when the swarm has room for `session`, if need be by replacing its longest idle peer (see `chooseReplaced`). */
  private makeRoomInSwarm (session: PeerSession, infoHash: InfoHash): boolean {
    const swarm = [...this.swarms.get(infoHash) ?? []]
    if (swarm.length < this.options.maxConnectionsPerTorrent) return true
    // A lowered limit holds back newcomers until enough peers have left; nobody is replaced for them.
    if (swarm.length > this.options.maxConnectionsPerTorrent) return false
    return this.replaceFor(this.sessions.get(session)!, swarm)
  }

  private joined (session: PeerSession): void {
    const infoHash = session.torrent!.metainfo.infoHash
    let swarm = this.swarms.get(infoHash)
    if (swarm === undefined) {
      swarm = new Set()
      this.swarms.set(infoHash, swarm)
    }
    swarm.add(session)
    this.emit('peer-connected', { infoHash, address: session.address, direction: session.direction, encrypted: session.encrypted })
  }

  private closed (session: PeerSession, reason: DisconnectReason): void {
    const host = this.sessions.get(session)
    if (host !== undefined) this.gate.release(host)
    this.sessions.delete(session)
    const dialed = this.dialing.get(session)
    this.dialing.delete(session)
    this.scheduler.remove(session)
    this.pex.forget(session)
    const infoHash = session.torrent?.metainfo.infoHash
    const swarm = infoHash === undefined ? undefined : this.swarms.get(infoHash)
    if (infoHash !== undefined && swarm?.delete(session) === true) {
      if (swarm.size === 0) this.swarms.delete(infoHash)
      if (this.optimistic?.key === session.key) this.optimistic = undefined
      this.emit('peer-disconnected', { infoHash, address: session.address, direction: session.direction, encrypted: session.encrypted, reason })
      this.rechokeSoon()
      return
    }
    this.countRefusal(reason)
    this.emit('peer-refused', refusal(session.address, session.direction, reason, infoHash))
    if (dialed !== undefined) this.redialPlaintext(session, reason, dialed)
  }

  private countRefusal (reason: DisconnectReason): void {
    this.refusedCounts.set(reason, (this.refusedCounts.get(reason) ?? 0) + 1)
  }

  /**
   * A torrent error ends the torrent (see `failTorrent`). A transient one (out of file descriptors or
   * memory) ends nothing: the session refuses that one request, and the peer asks again.
   */
  private readFailed (session: PeerSession, error: unknown): void {
    const torrent = session.torrent
    if (torrent === undefined) return
    if (!isTransientError(error)) {
      this.failTorrent(torrent, asTorrentError(error, torrent))
      return
    }
    const now = this.options.now()
    if (now - this.transientWarnedAt < TRANSIENT_WARNING_MS) return
    this.transientWarnedAt = now
    this.emit('warning', { code: error.code, message: `${error.message}; requests are refused until it passes, "${torrent.metainfo.name}" stays published`, infoHash: torrent.metainfo.infoHash })
  }

  /** The torrent's files changed or vanished: say so once, end its swarm, refuse it until it is published again. */
  private failTorrent (torrent: PublishedTorrent, error: SeederError & { code: TorrentErrorCode }): void {
    const { infoHash } = torrent.metainfo
    if (this.catalog.get(infoHash) !== torrent || this.failed.has(infoHash)) return
    this.failed.set(infoHash, error.code)
    this.emit('torrent-error', { infoHash, code: error.code, message: error.message, ...(error.path !== undefined && { path: error.path }) })
    this.endSwarm(infoHash, 'torrent-error')
    this.trackers?.remove(infoHash)
    this.reader.forget(torrent)
  }

  private endSwarm (infoHash: InfoHash, reason: DisconnectReason): void {
    for (const session of [...this.swarms.get(infoHash) ?? []]) session.close(reason)
  }

  private countUpload (session: PeerSession, bytes: number): void {
    const infoHash = session.torrent!.metainfo.infoHash
    this.totalUploaded += bytes
    this.uploadedBytes.set(infoHash, (this.uploadedBytes.get(infoHash) ?? 0) + bytes)
    this.unreported.set(infoHash, (this.unreported.get(infoHash) ?? 0) + bytes)
  }

  private reportUploads (): void {
    for (const [infoHash, bytes] of this.unreported) this.emit('uploaded', { infoHash, bytes })
    this.unreported.clear()
  }

  /** BEP 11: sends each peer of every swarm the PEX update due, if any (see `PexFeed`). */
  private exchangePeers (): void {
    const now = this.options.now()
    for (const swarm of this.swarms.values()) this.pex.exchange(swarm, now)
  }

  /**
   * A peer's extended handshake came: it may take its first PEX message, or be news for the first
   * message of the others; sent on the next turn of the event loop, gathering the handshakes of this one.
   */
  private exchangePeersSoon (): void {
    if (this.pexImmediate !== undefined || this.state !== 'started' || !this.options.pex) return
    this.pexImmediate = setImmediate(() => {
      this.pexImmediate = undefined
      this.exchangePeers()
    })
  }

  /** Re-runs the choker on the next turn of the event loop, gathering the changes of this one. */
  private rechokeSoon (): void {
    if (this.rechokeImmediate !== undefined || this.state !== 'started') return
    this.rechokeImmediate = setImmediate(() => {
      this.rechokeImmediate = undefined
      this.rechoke()
    })
  }

  /**
   * Ends the peers that have not read for `stallDisconnectMs` (their pool buffers come back), or for
   * `stallMs` while every pool buffer is taken (peers that read wait for the ones they hold), and
   * rechokes at once when a peer in a slot stalled or left it unused for `stallMs`.
   */
  private checkStalls (): void {
    const now = this.options.now()
    const disconnectMs = this.blocks.available ? this.options.stallDisconnectMs : this.options.stallMs
    let rechoke = false
    for (const swarm of this.swarms.values()) {
      for (const peer of [...swarm]) {
        if (peer.isSendStalled(now, disconnectMs)) {
          peer.close('send-stalled')
          continue
        }
        const view = peer.chokerView(now, this.options.stallMs)
        if (peer.unchoked && (view.stalled || view.unused)) rechoke = true
      }
    }
    if (rechoke) this.rechoke()
  }

  /** Rotates the upload slots among the interested peers that read what they are sent. */
  private rechoke (): void {
    if (this.state !== 'started') return
    const now = this.options.now()
    const peers = [...this.swarms.values()].flatMap((swarm) => [...swarm])
    const decision = decideUnchokes(peers.map((peer) => peer.chokerView(now, this.options.stallMs)), this.optimistic, now, {
      slots: this.options.uploadSlots,
      turnMs: this.options.unchokeTurnMs,
      optimisticMs: this.options.optimisticUnchokeMs
    })
    this.optimistic = decision.optimistic
    for (const peer of peers) {
      if (decision.unchoked.has(peer.key)) peer.unchoke(now)
      else peer.choke(now)
    }
  }
}

/** The infohashes a peer may handshake with for `torrent`: its own, and a hybrid's truncated v2 one (BEP 52). */
function handshakeNames (torrent: PublishedTorrent): InfoHash[] {
  const truncated = truncatedV2Of(torrent.metainfo)
  return truncated === undefined ? [torrent.metainfo.infoHash] : [torrent.metainfo.infoHash, truncated]
}

/** The reader throws torrent errors only; anything else is still reported as a read failure of that torrent, never a crash. */
function asTorrentError (error: unknown, torrent: PublishedTorrent): SeederError & { code: TorrentErrorCode } {
  if (isTorrentError(error)) return error
  const reason = error instanceof Error ? error.message : String(error)
  return new SeederError('ET_READ', `reading "${torrent.metainfo.name}" failed: ${reason}`, { cause: error }) as SeederError & { code: 'ET_READ' }
}

function refusal (address: string, direction: PeerDirection, reason: DisconnectReason, infoHash: string | undefined): SeederEvents['peer-refused'][0] {
  return { address, direction, reason, ...(infoHash !== undefined && { infoHash }) }
}
