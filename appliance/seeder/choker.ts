/** What the choker needs to know about one connected peer. */
export interface ChokerPeer {
  /** Unique per connection; lower keys connected earlier. */
  readonly key: number
  readonly interested: boolean
  /** When the peer's current turn in an upload slot began; undefined while it is choked. */
  readonly unchokedAt: number | undefined
  /** When its last turn ended; undefined if it never had one. */
  readonly lastServedAt: number | undefined
  /** It has not read the blocks sent to it for a while: it gets no slot until it does. */
  readonly stalled: boolean
  /** Unchoked, it has asked for nothing for a while: its turn is over, and it goes to the back of the line. */
  readonly unused: boolean
}

export interface OptimisticSlot {
  readonly key: number
  readonly since: number
}

export interface ChokerSettings {
  /** Regular upload slots; the optimistic slot comes on top. */
  readonly slots: number
  /** How long a peer keeps a regular slot while others wait. */
  readonly turnMs: number
  /** How long a peer keeps the optimistic slot. */
  readonly optimisticMs: number
}

export interface ChokeDecision {
  /** Keys of the peers to unchoke; every other peer is choked. */
  readonly unchoked: ReadonlySet<number>
  readonly optimistic: OptimisticSlot | undefined
}

/**
 * The seeding choker (BEP 3 leaves the algorithm to the client). A seed has nothing to gain by
 * reciprocating, so slots go round-robin: an interested peer keeps its slot for `turnMs`, then yields
 * to whoever has waited longest since its own last turn (peers never served first). One more slot is
 * optimistic: it goes at once to the longest-waiting peer for `optimisticMs` (as libtorrent picks the
 * least recently optimistically unchoked peer rather than a random one), so a newcomer gets data
 * without waiting for a turn to end. Uninterested peers, and peers that do not read what they are
 * sent, are always choked; a peer that asks for nothing in its slot ends its turn early. Callable at
 * any time: between turns it only fills free slots.
 */
export function decideUnchokes (
  peers: readonly ChokerPeer[],
  previousOptimistic: OptimisticSlot | undefined,
  now: number,
  settings: ChokerSettings
): ChokeDecision {
  const candidates = peers.filter((peer) => peer.interested && !peer.stalled)
  const keptOptimistic = previousOptimistic !== undefined &&
    now - previousOptimistic.since < settings.optimisticMs &&
    candidates.some((peer) => peer.key === previousOptimistic.key && !peer.unused)
    ? previousOptimistic
    : undefined
  const pool = candidates.filter((peer) => peer.key !== keptOptimistic?.key)
  const onTurn = pool
    .filter((peer) => peer.unchokedAt !== undefined && now - peer.unchokedAt < settings.turnMs && !peer.unused)
    .sort((a, b) => a.unchokedAt! - b.unchokedAt! || a.key - b.key)
    .slice(0, settings.slots)
  const unchoked = new Set(onTurn.map((peer) => peer.key))
  const waiting = pool
    .filter((peer) => !unchoked.has(peer.key))
    .sort((a, b) => waitingSince(a, now) - waitingSince(b, now) || a.key - b.key)
  for (const peer of waiting) {
    if (unchoked.size >= settings.slots) break
    unchoked.add(peer.key)
  }
  const next = waiting.find((peer) => !unchoked.has(peer.key))
  const optimistic = keptOptimistic ?? (next === undefined ? undefined : { key: next.key, since: now })
  if (optimistic !== undefined) unchoked.add(optimistic.key)
  return { unchoked, optimistic }
}

/** A peer whose turn is over counts as served just now, so it goes to the back of the queue. */
function waitingSince (peer: ChokerPeer, now: number): number {
  if (peer.unchokedAt !== undefined) return now
  return peer.lastServedAt ?? Number.NEGATIVE_INFINITY
}
