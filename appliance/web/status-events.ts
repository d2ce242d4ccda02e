import type { IncomingMessage, ServerResponse } from 'node:http'
import { addressKey } from '../net/connection-gate.js'
import type { ItemDoc, StatusDocument } from './status-document.js'

/**
 * What `/api/events` sends after the full `snapshot` on connect: the document's other fields in full,
 * and only the items that changed or went away since the previous event.
 */
export interface StatusDelta extends Omit<StatusDocument, 'items'> {
  readonly items: readonly ItemDoc[]
  readonly removed: readonly string[]
}

/** The browser waits this long before reconnecting after the connection drops. */
const RETRY_MS = 2000
/** A comment this often keeps idle connections open through proxies and NAT. */
const HEARTBEAT_MS = 15_000
/** A client that has this much unsent is too slow (or gone); it is dropped and reconnects to a fresh snapshot. */
export const MAX_BUFFERED_BYTES = 1024 * 1024

export interface StatusEventsOptions {
  /** `http.max_event_streams`: streams at most; more get a 503 (each holds a socket and a little memory). */
  readonly maxStreams: number
  /** `http.event_streams_per_address`: streams from one address at most; more get a 429. */
  readonly streamsPerAddress: number
}

/**
 * Server-sent events for the status page: a `snapshot` event with the whole document when a client
 * connects, then `delta` events. Each event is serialised once and written to every client, so the
 * cost of an update does not grow with the JSON of every item times every open page.
 */
export class StatusEvents {
  /** Each open stream, with the address it counts against. */
  private readonly clients = new Map<ServerResponse, string>()
  /** Open streams per address (IPv6 per /64), so one client cannot take every stream. */
  private readonly byAddress = new Map<string, number>()
  private limits: StatusEventsOptions
  private readonly heartbeat: NodeJS.Timeout
  /** What clients were last sent of each item; undefined: not the same for all of them. */
  private lastItems = new Map<string, string | undefined>()
  private lastRest = ''

  /** `current` gives the document for a client that just connected. */
  constructor (private readonly current: () => StatusDocument, limits: StatusEventsOptions) {
    this.limits = limits
    this.heartbeat = setInterval(() => { this.broadcast(': keep-alive\n\n') }, HEARTBEAT_MS).unref()
  }

  get clientCount (): number {
    return this.clients.size
  }

  /** New bounds (a config reload) for the streams opened from now on; none is closed. */
  setLimits (limits: StatusEventsOptions): void {
    this.limits = limits
  }

  /** Route handler for `GET /api/events`. */
  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    const address = addressKey(req.socket.remoteAddress ?? '')
    const fromAddress = this.byAddress.get(address) ?? 0
    const { maxStreams, streamsPerAddress } = this.limits
    if (this.clients.size >= maxStreams || fromAddress >= streamsPerAddress) {
      const mine = fromAddress >= streamsPerAddress
      res.writeHead(mine ? 429 : 503, { 'Content-Type': 'text/plain; charset=utf-8', 'Retry-After': '10' })
      res.end(mine ? `too many status pages open from ${address}: close one (at most ${streamsPerAddress})\n` : 'too many status pages open\n')
      return
    }
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      // Reverse proxies (nginx) would otherwise hold events back.
      'X-Accel-Buffering': 'no'
    })
    res.socket?.setNoDelay(true)
    const document = this.current()
    this.remember(document)
    res.write(`retry: ${RETRY_MS}\n\n${event('snapshot', document)}`)
    this.clients.set(res, address)
    this.byAddress.set(address, fromAddress + 1)
    const forget = (): void => { this.forget(res) }
    req.once('close', forget)
    res.once('close', forget)
  }

  /** Sends what changed since the last event; nothing when nothing did. */
  publish (document: StatusDocument): void {
    const { items, ...rest } = document
    const restJson = restKey(rest)
    const itemJson = new Map(items.map((item) => [item.id, JSON.stringify(item)]))
    const changed = items.filter((item) => this.lastItems.get(item.id) !== itemJson.get(item.id))
    const removed = [...this.lastItems.keys()].filter((id) => !itemJson.has(id))
    const restChanged = restJson !== this.lastRest
    this.lastItems = itemJson
    this.lastRest = restJson
    if (!restChanged && changed.length === 0 && removed.length === 0) return
    if (this.clients.size === 0) return
    const delta: StatusDelta = { ...rest, items: changed, removed }
    this.broadcast(event('delta', delta))
  }

  /** Ends every stream; the pages reconnect by themselves once the server is back. */
  close (): void {
    clearInterval(this.heartbeat)
    for (const client of this.clients.keys()) client.end()
    this.clients.clear()
    this.byAddress.clear()
  }

  /**
   * A new client's snapshot joins the base the next delta is computed from. Clients connected earlier
   * have seen the last event instead; where the two differ the item is sent again (or reported
   * removed), which is harmless for whoever already has it.
   */
  private remember (document: StatusDocument): void {
    const { items, ...rest } = document
    const snapshot = new Map(items.map((item) => [item.id, JSON.stringify(item)]))
    const restJson = restKey(rest)
    if (this.clients.size === 0) {
      this.lastItems = snapshot
      this.lastRest = restJson
      return
    }
    const merged = new Map<string, string | undefined>()
    for (const id of new Set([...this.lastItems.keys(), ...snapshot.keys()])) {
      const seen = this.lastItems.get(id)
      merged.set(id, seen === snapshot.get(id) ? seen : undefined)
    }
    this.lastItems = merged
    if (restJson !== this.lastRest) this.lastRest = ''
  }

  private forget (res: ServerResponse): void {
    const address = this.clients.get(res)
    if (address === undefined) return
    this.clients.delete(res)
    const left = (this.byAddress.get(address) ?? 1) - 1
    if (left === 0) this.byAddress.delete(address)
    else this.byAddress.set(address, left)
  }

  private broadcast (text: string): void {
    for (const client of this.clients.keys()) {
      if (client.writableLength > MAX_BUFFERED_BYTES) {
        client.destroy()
        this.forget(client)
        continue
      }
      client.write(text)
    }
  }
}

function event (name: string, data: unknown): string {
  // JSON.stringify escapes newlines inside strings, so the payload is one `data:` line.
  return `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`
}

/** The document without its items and its clock: a new clock alone is no reason to send an event. */
function restKey (rest: Omit<StatusDocument, 'items'>): string {
  return JSON.stringify({ ...rest, generatedAt: 0 })
}
