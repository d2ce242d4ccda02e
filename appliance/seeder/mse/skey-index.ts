import type { InfoHash } from '../../metainfo/metainfo.js'
import { req2Hash } from './mse-handshake.js'

/**
 * The published infohashes by HASH('req2', infohash): an MSE responder learns the torrent only as
 * that hash (xor'ed with one it can undo). One entry per infohash a published torrent answers to (a hybrid has two), kept in step with the catalog.
 */
export class SkeyIndex {
  private readonly byHash = new Map<string, InfoHash>()

  add (infoHash: InfoHash): void {
    this.byHash.set(req2Hash(infoHash).toString('hex'), infoHash)
  }

  remove (infoHash: InfoHash): void {
    this.byHash.delete(req2Hash(infoHash).toString('hex'))
  }

  find (hash: Uint8Array): InfoHash | undefined {
    return this.byHash.get(Buffer.from(hash).toString('hex'))
  }

  get size (): number {
    return this.byHash.size
  }
}
