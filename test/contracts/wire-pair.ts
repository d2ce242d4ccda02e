import { randomBytes } from 'node:crypto'
import type { ExecutionContext } from 'ava'
import Wire from 'bittorrent-protocol'
import { buildMetainfo, type Metainfo } from '../../appliance/metainfo/metainfo.js'
import type { PeerExtensions } from '../../appliance/seeder/peer-extensions.js'
import { PeerWire, type PeerWireListener, type Respond } from '../../appliance/seeder/peer-wire.js'
import type { PeerDirection } from '../../appliance/seeder/seeder-events.js'

export const OUR_PEER_ID = Buffer.from('-ET0000-' + randomBytes(6).toString('hex'), 'latin1')

/** A torrent whose info dictionary takes `metadataPieces` BEP 9 pieces of 16 KiB (the last one partly). */
export function torrentWithMetadata (metadataPieces: number): Metainfo {
  const pieceCount = Math.ceil((metadataPieces - 0.5) * 16 * 1024 / 20)
  return buildMetainfo({ name: 'contract.bin', pieceLength: 16384, pieces: randomBytes(20 * pieceCount), files: [{ path: [], length: 16384 * pieceCount }] })
}

export interface HeardRequest {
  readonly index: number
  readonly offset: number
  readonly length: number
  readonly respond: Respond
}

/** What our PeerWire told its listener, in order. */
export interface Heard {
  readonly handshakes: Array<{ infoHash: string, peerId: string }>
  readonly requests: HeardRequest[]
  readonly cancels: Array<[number, number, number]>
  readonly bitfields: Uint8Array[]
  readonly output: Array<{ chunk: Uint8Array, block: boolean }>
  readonly uploaded: number[]
  /** Each extended handshake of the remote, as read. */
  readonly extensions: PeerExtensions[]
  interestChanges: number
  haveAlls: number
  metadataMessages: number
  /** BEP 52 hash requests, whole (id first). */
  readonly hashRequests: Uint8Array[]
  violations: number
}

export interface WirePair {
  /** Our side, the seed, as PeerSession uses it. */
  readonly ours: PeerWire
  /** The peer: a plain bittorrent-protocol Wire. */
  readonly remote: Wire
  /** The remote's peer id. */
  readonly remoteId: Buffer
  readonly heard: Heard
  readonly metainfo: Metainfo
}

export interface WirePairOptions {
  /** Who connected: `incoming` (default), the remote dialled us. */
  readonly direction?: PeerDirection
  /** Whether the remote offers BEP 6 (default true). */
  readonly fast?: boolean
  readonly metainfo?: Metainfo
  /** Called from our listener's `handshake`, where PeerSession describes itself and answers. */
  readonly onHandshake?: (pair: WirePair) => void
  /** What reaches the remote for each chunk of output (default: the chunk itself); the chunk may be overwritten meanwhile, as MSE ciphers a block in place. */
  readonly forward?: (chunk: Uint8Array, block: boolean) => Uint8Array
  /** Wires the two ends together (default true); false leaves the test to feed `ours.receive` by hand. */
  readonly connected?: boolean
}

/**
 * Our PeerWire and a real Wire joined in memory, as a socket would join them. Our side answers the
 * handshake as PeerSession does: `describe`, then its own handshake on an incoming connection.
 */
export function wirePair (t: ExecutionContext, options: WirePairOptions = {}): WirePair {
  const direction = options.direction ?? 'incoming'
  const metainfo = options.metainfo ?? torrentWithMetadata(1)
  const heard: Heard = { handshakes: [], requests: [], cancels: [], bitfields: [], output: [], uploaded: [], extensions: [], interestChanges: 0, haveAlls: 0, metadataMessages: 0, hashRequests: [], violations: 0 }
  const remote = new Wire(direction === 'incoming' ? 'tcpOutgoing' : 'tcpIncoming')
  const connected = options.connected ?? true
  let pair: WirePair | undefined
  const listener: PeerWireListener = {
    handshake: (infoHash, peerId) => {
      heard.handshakes.push({ infoHash, peerId })
      if (options.onHandshake !== undefined) options.onHandshake(pair!)
      else if (direction === 'incoming') pair!.ours.sendHandshake(infoHash, OUR_PEER_ID, false)
    },
    interestChanged: () => { heard.interestChanges++ },
    request: (index, offset, length, respond) => { heard.requests.push({ index, offset, length, respond }) },
    cancel: (index, offset, length) => { heard.cancels.push([index, offset, length]) },
    haveAll: () => { heard.haveAlls++ },
    bitfield: (bitfield) => { heard.bitfields.push(bitfield) },
    metadataMessage: () => { heard.metadataMessages++ },
    hashRequest: (message) => { heard.hashRequests.push(Buffer.from(message)) },
    extensions: (extensions) => { heard.extensions.push(extensions) },
    uploaded: (bytes) => { heard.uploaded.push(bytes) },
    output: (chunk, block) => {
      heard.output.push({ chunk, block })
      if (connected) remote.write(options.forward?.(chunk, block) ?? chunk)
    },
    violation: () => { heard.violations++ }
  }
  const ours = new PeerWire(direction, listener)
  const remoteId = Buffer.from('-RW0000-' + randomBytes(6).toString('hex'), 'latin1')
  pair = { ours, remote, remoteId, heard, metainfo }
  if (connected) remote.on('data', (chunk) => ours.receive(chunk, () => {}))
  t.teardown(() => {
    ours.destroy()
    remote.destroy()
  })
  const fast = options.fast ?? true
  if (direction === 'incoming') {
    if (connected) remote.handshake(metainfo.infoHash, remoteId, { fast })
  } else {
    remote.on('handshake', (infoHash) => remote.handshake(infoHash, remoteId, { fast }))
    ours.sendHandshake(metainfo.infoHash, OUR_PEER_ID, false)
  }
  return pair
}
