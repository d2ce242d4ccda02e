/**
 * What the box says it publishes, from its own `/api/status`, looked at every few seconds: the
 * downloaders pick seeding items from it, the tracker load announces their infohashes, the sampler
 * counts items by state.
 */
import type { StatusDocument } from '../../appliance/web/status-document.js'
import { paced } from './pace.js'

const POLL_MS = 5000
const TIMEOUT_MS = 5000

export interface ItemState {
  readonly name: string
  readonly state: string
  readonly infoHash: string | undefined
}

export class BoxStatus {
  private readonly abort = new AbortController()
  private items: readonly ItemState[] = []
  private loop: Promise<void> = Promise.resolve()
  /** Looks that got no answer (refused, timed out, not 200). */
  unanswered = 0

  constructor (private readonly httpPort: number) {}

  start (): void {
    this.loop = paced(this.abort.signal, POLL_MS, async () => { await this.refresh() }, () => { this.unanswered++ })
  }

  async stop (): Promise<void> {
    this.abort.abort()
    await this.loop
  }

  /** Looks now; throws when the box does not answer. */
  async refresh (): Promise<void> {
    const response = await fetch(`http://127.0.0.1:${this.httpPort}/api/status`, { signal: AbortSignal.timeout(TIMEOUT_MS) })
    if (!response.ok) throw new Error(`/api/status: HTTP ${response.status}`)
    const document = await response.json() as StatusDocument
    this.items = document.items.map((item) => ({ name: item.name, state: item.state, infoHash: item.infoHash }))
  }

  /** The item of that name (top-level names are unique in the soak's libraries). */
  item (name: string): ItemState | undefined {
    return this.items.find((item) => item.name === name)
  }

  seedingInfoHashes (): string[] {
    return this.items.filter((item) => item.state === 'seeding' && item.infoHash !== undefined).map((item) => item.infoHash!)
  }

  countByState (): Record<string, number> {
    const counts: Record<string, number> = {}
    for (const item of this.items) counts[item.state] = (counts[item.state] ?? 0) + 1
    return counts
  }
}
