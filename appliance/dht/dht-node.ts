import { EventEmitter } from 'node:events'
import DHT from 'bittorrent-dht'
import type { InfoHash } from '../metainfo/metainfo.js'
import type { GuardedSocket } from './guarded-socket.js'

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

/**
 * BEP 44 values are refused before they reach bittorrent-dht (see `isWellFormedKrpc`), and the
 * node stores none of its own: the smallest table it accepts.
 */
const MAX_VALUES = 1

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
 * withdrawn; test/contracts/bittorrent-dht.test.ts pins that.
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
      maxValues: MAX_VALUES,
      maxAge: options.peerMaxAgeMs
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

  /** Lists `host:port` as a peer of the torrent in our own answers to get_peers. */
  addOwnPeer (infoHash: InfoHash, host: string, port: number): void {
    this.dht._peers.add(infoHash, compactPeer(host, port))
  }

  removeOwnPeer (infoHash: InfoHash, host: string, port: number): void {
    this.dht._peers.remove(infoHash, compactPeer(host, port))
  }

  async close (): Promise<void> {
    await new Promise<void>((resolve) => this.dht.destroy(() => resolve()))
  }
}
