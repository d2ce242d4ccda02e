// Minimal declarations for bittorrent-dht 11, which ships none: only what its one user,
// appliance/dht/dht-node.ts, and the tests call. What the adapter relies on beyond the README (the
// `_peers` table) is pinned by test/contracts/bittorrent-dht.test.ts.
declare module 'bittorrent-dht' {
  import { EventEmitter } from 'node:events'

  export interface DhtContact {
    id?: Buffer
    host: string
    port: number
  }

  export interface DhtOptions {
    nodeId?: Buffer
    /** `host:port` strings, or false for none. */
    bootstrap?: string[] | false
    host?: string | false
    /** Passed down to k-rpc-socket: the datagram socket to use instead of a new udp4 one. */
    socket?: unknown
    maxTables?: number
    maxValues?: number
    maxPeers?: number
    maxAge?: number
    /** BEP 44: checks an ed25519 signature of a mutable item; without it mutable puts are refused and gets ignore them. */
    verify?: (signature: Buffer, message: Buffer, publicKey: Buffer) => boolean
  }

  /** A BEP 44 item as bittorrent-dht stores it in `_values` (by hex target). */
  export interface StoredValue {
    v: unknown
    id: Buffer
    k?: Buffer
    sig?: Buffer
    seq?: number
    salt?: Buffer
  }

  export interface MutablePut {
    k: Buffer
    seq: number
    v: unknown
    sig: Buffer
    salt?: Buffer
  }

  /** record-cache: the peers announced to this node, by infohash (hex) → compact peers. */
  export interface PeerRecords {
    add: (name: string, record: Buffer) => void
    remove: (name: string, record: Buffer) => void
    readonly size: number
  }

  export default class DHT extends EventEmitter {
    constructor (options?: DhtOptions)
    readonly nodeId: Buffer
    readonly destroyed: boolean
    readonly nodes: { toArray: () => Array<Required<DhtContact>>, count: () => number }
    readonly _peers: PeerRecords
    /** lru: the BEP 44 items this node stores, by hex target; `maxValues` bounds it. */
    readonly _values: { get: (key: string) => StoredValue | undefined, set: (key: string, value: StoredValue) => void }
    readonly _rpc: { readonly id: Buffer }
    /**
     * The iterative lookup towards `target` with `message` (a `get`), calling `onReply` with each
     * answer (return true to go on); `done` once the lookup ends.
     */
    _closest (target: Buffer, message: { q: string, a: Record<string, unknown> }, onReply: ((message: { r?: Record<string, unknown> }, node: { host?: string, address?: string, port: number }) => boolean) | null, done: (error: Error | null, visited?: number) => void): void
    /** BEP 44 get: the highest-seq item whose signature `verify` accepts (mutable), or null. */
    get (target: Buffer, callback: (error: Error | null, value: { v: any, k?: Buffer, sig?: Buffer, seq?: number } | null) => void): void
    put (item: MutablePut, callback?: (error: (Error & { code?: number }) | null, target: Buffer, stored: number) => void): Buffer
    listen (port: number, host: string, onListening?: () => void): void
    address (): { address: string, port: number }
    addNode (node: DhtContact): void
    announce (infoHash: Buffer | string, port: number, callback?: (error: Error | null) => void): void
    /** BEP 5 get_peers towards the infohash; each peer found is emitted as 'peer' (peer, infoHash, from). */
    lookup (infoHash: Buffer | string, callback?: (error: Error | null, visited?: number) => void): void
    destroy (callback?: () => void): void
  }
}
