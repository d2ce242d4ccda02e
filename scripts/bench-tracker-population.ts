/**
 * Who announces in bench-tracker: a fixed population of peers spread over swarms, the same for both
 * trackers and every round. Peer `j` is in swarm `j % swarms`; it announces from source address
 * `sourceOf(j)` of its generator at port `portOf(j)`, so (address, port) differs between any two peers,
 * as opentracker keys peers by it and bittorrent-tracker by peer id (which differs too).
 */
import { createHash } from 'node:crypto'

/** The first port peers announce; ports run from here. */
const FIRST_PORT = 1024
const PORTS = 64_000

/** `count` infohashes that look like real ones (opentracker picks a bucket by the first bytes). */
export function swarmHashes (count: number): Buffer[] {
  return Array.from({ length: count }, (_, index) => createHash('sha1').update(`evertorrent bench-tracker swarm ${index}`).digest())
}

export interface Population {
  readonly peers: number
  readonly swarms: number
}

/**
 * How the peers are shared out: generator process `slice` of `slices` announces peers j ≡ slice
 * (mod slices), each from one of its `sources` addresses.
 */
export interface Share {
  readonly slice: number
  readonly slices: number
  readonly sources: number
}

/** How many peers generator `share.slice` announces. */
export function peersOfSlice (population: Population, share: Share): number {
  return Math.floor((population.peers - share.slice + share.slices - 1) / share.slices)
}

/** The peer the `n`th announce of a slice is for (peer after peer, then again from the first). */
export function peerOfAnnounce (n: number, population: Population, share: Share): number {
  return (n % peersOfSlice(population, share)) * share.slices + share.slice
}

export function swarmOf (peer: number, population: Population): number {
  return peer % population.swarms
}

/** Index of the generator's source address (its socket) peer `peer` announces from. */
export function sourceOf (peer: number, share: Share): number {
  return Math.floor(peer / share.slices) % share.sources
}

export function portOf (peer: number, share: Share): number {
  return FIRST_PORT + (Math.floor(peer / (share.slices * share.sources)) % PORTS)
}

/** One peer in ten is a seed. */
export function leftOf (peer: number): number {
  return peer % 10 === 0 ? 0 : 1_000_000
}

/** `-EB0001-` and the peer's number in 12 digits: 20 bytes, written into `out`. */
export function writePeerId (out: Buffer, peer: number): Buffer {
  out.write(`-EB0001-${String(peer).padStart(12, '0')}`, 0, 20, 'latin1')
  return out
}
