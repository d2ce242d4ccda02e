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
    listen (port: number, host: string, onListening?: () => void): void
    address (): { address: string, port: number }
    addNode (node: DhtContact): void
    announce (infoHash: Buffer | string, port: number, callback?: (error: Error | null) => void): void
    destroy (callback?: () => void): void
  }
}
