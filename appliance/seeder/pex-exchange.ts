import { encodePexMessage, type PexPeer } from './pex-message.js'
import { PexFeed, pexKey } from './pex-feed.js'

/** A connected peer, as peer exchange sees it. */
export interface PexMember {
  /** How the others of its swarm can reach it, or undefined (it gave no listen port). */
  readonly pexPeer: PexPeer | undefined
  /** True when it takes ut_pex messages. */
  readonly takesPex: boolean
  sendPex (payload: Uint8Array): void
}

/**
 * BEP 11 for the everseed's swarms: tells each peer that takes `ut_pex` about the other peers of its
 * swarm, so leechers trade with each other and not only with the box. Holds one `PexFeed` per peer
 * told, until `forget`.
 */
export class PexExchange<M extends PexMember> {
  private readonly feeds = new Map<M, PexFeed>()
  private messages = 0
  private advertised = 0

  /** `ut_pex` messages sent. */
  get messagesSent (): number {
    return this.messages
  }

  /** Peers named as added in them. */
  get peersAdvertised (): number {
    return this.advertised
  }

  /** Sends every member of one swarm that takes PEX the update due at `now`, if any (see `PexFeed`). */
  exchange (swarm: Iterable<M>, now: number): void {
    const members = [...swarm]
    const view = new Map<string, PexPeer>()
    for (const member of members) {
      if (member.pexPeer !== undefined) view.set(pexKey(member.pexPeer.address), member.pexPeer)
    }
    for (const member of members) {
      if (!member.takesPex) continue
      let feed = this.feeds.get(member)
      if (feed === undefined) {
        feed = new PexFeed()
        this.feeds.set(member, feed)
      }
      const update = feed.next(now, view, member.pexPeer === undefined ? undefined : pexKey(member.pexPeer.address))
      if (update === undefined) continue
      member.sendPex(encodePexMessage(update))
      this.messages++
      this.advertised += update.added.length
    }
  }

  /** The member left its swarm. */
  forget (member: M): void {
    this.feeds.delete(member)
  }
}
