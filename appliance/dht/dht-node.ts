import { EventEmitter } from 'node:events'
import DHT from 'bittorrent-dht'
import type { InfoHash } from '../metainfo/metainfo.js'
import type { GuardedSocket } from './guarded-socket.js'
import { verifyMutableSignature, type MutableItem } from './mutable-item.js'
import { MAX_GET_REPLIES, type MutableReply } from './resolve-catalog-pointer.js'

/** A DHT node we know: its id, and where it answers. */
export interface Contact {
  readonly id: Buffer
  readonly host: string
  readonly port: number
}

export interface DhtNodeOptions {
  /** Our 20-byte node id; a random one when undefined (a first start). */
  readonly nodeId?: Buffer | undefined
  /** `host:port` of the nodes asked first when the routing table is empty. */
  readonly bootstrap: readonly string[]
  readonly socket: GuardedSocket
  /** Peers stored for other nodes' torrents at most (bittorrent-dht's `maxPeers`). */
  readonly maxPeers: number
  /** Lookup results kept at most (bittorrent-dht's `maxTables`). */
  readonly maxLookups: number
  /** Peers stored for others are forgotten this long after their last announce. */
  readonly peerMaxAgeMs: number
  /** BEP 44 items stored for other nodes at most (bittorrent-dht's `maxValues`, least recently used first out). */
  readonly maxItems: number
}

export interface DhtNodeEvents {
  /** The first join finished (found nodes or not). */
  ready: []
  /** A node entered the routing table. */
  node: []
  /** A transient socket problem (a send failed, a reply timed out…): logged, the node goes on. */
  warning: [error: Error]
  /** The socket cannot be used (EADDRINUSE, EACCES). */
  error: [error: Error]
}


/** An IPv4 peer as BEP 5 stores it: 4 address bytes, 2 port bytes. */
function compactPeer (host: string, port: number): Buffer {
  const peer = Buffer.alloc(6)
  host.split('.').forEach((part, index) => { peer[index] = Number(part) })
  peer.writeUInt16BE(port, 4)
  return peer
}

/**
 * The adapter around bittorrent-dht, the one module that imports it: a BEP 5 node with its routing
 * table, answering queries and announcing. Beyond the README it reaches into the table of announced
 * peers (`_peers`), to keep the everseed in it for its own torrents and to take it out when one is
 * withdrawn, into its table of BEP 44 items (`_values`), to hold the box's own item, and into its
 * lookup (`_closest`), to see every answer to a `get`; test/contracts/bittorrent-dht.test.ts pins that.
 */
export class DhtNode extends EventEmitter<DhtNodeEvents> {
  private readonly dht: DHT

  constructor (options: DhtNodeOptions) {
    super()
    this.dht = new DHT({
      ...(options.nodeId !== undefined && { nodeId: options.nodeId }),
      bootstrap: options.bootstrap.length === 0 ? false : [...options.bootstrap],
      // The everseed's own peer entry is kept by `addOwnPeer`, which can also remove it.
      host: false,
      socket: options.socket,
      maxPeers: options.maxPeers,
      maxTables: options.maxLookups,
      maxValues: options.maxItems,
      maxAge: options.peerMaxAgeMs,
      // BEP 44: mutable items are stored and believed only with a valid ed25519 signature.
      verify: verifyMutableSignature
    })
    this.dht.on('ready', () => this.emit('ready'))
    this.dht.on('node', () => this.emit('node'))
    this.dht.on('warning', (error: Error) => this.emit('warning', error))
    this.dht.on('error', (error: Error) => this.emit('error', error))
  }

  get nodeId (): Buffer {
    return this.dht.nodeId
  }

  /** Nodes in the routing table. */
  get nodeCount (): number {
    return this.dht.nodes.count()
  }

  /** Peers stored for others, and for ourselves. */
  get storedPeers (): number {
    return this.dht._peers.size
  }

  contacts (): Contact[] {
    return this.dht.nodes.toArray().map(({ id, host, port }) => ({ id, host, port }))
  }

  /** Resolves once the socket is bound; rejects with the socket's error (EADDRINUSE…). */
  async listen (port: number, host: string): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error): void => reject(error)
      this.once('error', onError)
      this.dht.listen(port, host, () => {
        this.off('error', onError)
        resolve()
      })
    })
  }

  get port (): number {
    return this.dht.address().port
  }

  /** Puts a known node in the routing table without asking it first (one read back from the state file). */
  addContact (contact: Contact): void {
    this.dht.addNode({ id: contact.id, host: contact.host, port: contact.port })
  }

  /** Asks a node (a bootstrap node) for its id, and adds it to the table if it answers. */
  ping (hostPort: string): void {
    const index = hostPort.lastIndexOf(':')
    this.dht.addNode({ host: hostPort.slice(0, index), port: Number(hostPort.slice(index + 1)) })
  }

  /** BEP 5: get_peers towards the infohash, then announce_peer to the nodes nearest it, with our TCP port. */
  async announce (infoHash: InfoHash, port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.dht.announce(infoHash, port, (error) => { if (error === null || error === undefined) resolve(); else reject(error) })
    })
  }

  /** BEP 5 get_peers towards the infohash, without announcing: the peers the nodes nearest it name, at most `max`. */
  async lookupPeers (infoHash: InfoHash, max: number): Promise<Array<{ host: string, port: number }>> {
    const found = new Map<string, { host: string, port: number }>()
    const onPeer = (peer: { host?: unknown, port?: unknown }, hash: Buffer): void => {
      if (!Buffer.isBuffer(hash) || hash.toString('hex') !== infoHash || found.size >= max) return
      if (typeof peer.host === 'string' && typeof peer.port === 'number') found.set(`${peer.host}:${peer.port}`, { host: peer.host, port: peer.port })
    }
    this.dht.on('peer', onPeer)
    try {
      await new Promise<void>((resolve) => { this.dht.lookup(infoHash, () => { resolve() }) })
    } finally {
      this.dht.off('peer', onPeer)
    }
    return [...found.values()]
  }

  /** Lists `host:port` as a peer of the torrent in our own answers to get_peers. */
  addOwnPeer (infoHash: InfoHash, host: string, port: number): void {
    this.dht._peers.add(infoHash, compactPeer(host, port))
  }

  removeOwnPeer (infoHash: InfoHash, host: string, port: number): void {
    this.dht._peers.remove(infoHash, compactPeer(host, port))
  }

  /**
   * BEP 44 put of a signed mutable item to the nodes nearest its target (found by a `get` lookup
   * first), and into our own table, so this node answers for it too. Resolves with the number of
   * nodes that took it; rejects when none did (a 302 error: all hold this `seq` or a higher one).
   */
  async putMutable (item: MutableItem, target: Buffer): Promise<number> {
    const { k, seq, v, sig } = item
    const own = this.dht._values.get(target.toString('hex'))
    if (own?.seq === undefined || own.seq < seq) this.dht._values.set(target.toString('hex'), { v, k, sig, seq, id: this.dht._rpc.id })
    return await new Promise<number>((resolve, reject) => {
      this.dht.put({ k, seq, v, sig }, (error, _target, stored) => { if (error === null) resolve(stored); else reject(error) })
    })
  }

  /**
   * BEP 44 get: every answer carrying a value from the nodes nearest `target` (and our own copy),
   * unchecked, at most MAX_GET_REPLIES; the caller verifies them. Rejects when no node could be asked.
   */
  async getMutable (target: Buffer): Promise<MutableReply[]> {
    const replies: MutableReply[] = []
    const own = this.dht._values.get(target.toString('hex'))
    if (own?.sig !== undefined) replies.push({ k: own.k, seq: own.seq, v: own.v, sig: own.sig, from: 'this node' })
    await new Promise<void>((resolve, reject) => {
      this.dht._closest(target, { q: 'get', a: { id: this.dht._rpc.id, target } }, (message, node) => {
        const r = message.r
        if (r?.v !== undefined && replies.length < MAX_GET_REPLIES) replies.push({ k: r.k, seq: r.seq, v: r.v, sig: r.sig, from: `${node.host ?? node.address ?? '?'}:${node.port}` })
        return true
      }, (error) => { if (error === null || replies.length > 0) resolve(); else reject(error) })
    })
    return replies
  }

  async close (): Promise<void> {
    await new Promise<void>((resolve) => this.dht.destroy(() => resolve()))
  }
}
