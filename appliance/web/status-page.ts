import { EventEmitter } from 'node:events'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { hostname, networkInterfaces, uptime } from 'node:os'
import type { Catalog, PublishedTorrent } from '../catalog/catalog.js'
import type { Settings } from '../config/settings.js'
import type { LedPattern } from '../status/led-pattern.js'
import { patternFor } from '../status/pattern-for.js'
import type { EventLoopDelaySample } from '../platform/event-loop-delay.js'
import { magnetUri } from '../metainfo/magnet.js'
import { isOwnHost, ownHostNames } from '../net/own-host.js'
import type { StatusModel, StatusSnapshot } from '../status/status-model.js'
import { DiskSpace } from './disk-space.js'
import { HashingEta } from './hashing-eta.js'
import { sendStatus, type HttpServer, type RouteHandler, type RouteMatch } from './http-server.js'
import { sendJson, sendJsonError } from './json-response.js'
import { METRICS_CONTENT_TYPE, metricsText } from './metrics.js'
import { availableActions, statusActionsHandler, type ActionFailure, type StatusPageCommands } from './status-actions.js'
import { buildStatusDocument, drivePathOf, itemPathOf, type LedDoc, type MirrorDoc, type StatusDocument } from './status-document.js'
import { StatusEvents, type StatusEventsOptions } from './status-events.js'
import { send, sendCached } from './status-page-assets.js'

/** The status LED as the hardware controller drives it (`HardwareController` is one); the page redraws on `pattern`. */
export interface LedSource {
  readonly pattern: LedPattern
  on: (event: 'pattern', listener: (pattern: LedPattern) => void) => unknown
  off: (event: 'pattern', listener: (pattern: LedPattern) => void) => unknown
}

/**
 * The options the settings table gives (see `statusPageOptionsFrom`). Required: their defaults are the
 * table's, written once there.
 */
export interface SettingsOptions {
  /** `web.admin_token`: empty turns every action off. */
  readonly adminToken: string
  /** Bounds of `/api/events`: streams in all and per address. */
  readonly eventStreams: StatusEventsOptions
}

/** The status page's options from the settings table; the one place its keys are read (at start and on reload, see `StatusPage.apply`). */
export function statusPageOptionsFrom (settings: Settings): SettingsOptions {
  return {
    adminToken: settings['web.admin_token'],
    eventStreams: { maxStreams: settings['http.max_event_streams'], streamsPerAddress: settings['http.event_streams_per_address'] }
  }
}

export interface StatusPageOptions extends SettingsOptions {
  readonly status: StatusModel
  readonly catalog: Catalog
  readonly commands: StatusPageCommands
  readonly version: string
  /** The tracker URLs written into every torrent now (they change with the public host). */
  readonly trackers: () => readonly string[]
  /** Default: the machine's hostname. */
  readonly name?: string
  /** Default: what `patternFor` makes of the status, as the LED would show it (without the button's feedback). */
  readonly led?: LedSource
  /** Default: the machine's non-loopback addresses, link-local IPv6 left out. */
  readonly addresses?: () => string[]
  readonly now?: () => number
  /**
   * Host names `/api/` answers to, besides IP literals (see `ownHostNames`); others get 421, so a
   * page that rebinds its own name to the box's address can neither read the status nor act. Default:
   * `localhost`, the machine's hostname and `<hostname>.local`.
   */
  readonly hostNames?: () => ReadonlySet<string>
  /** The box's public key (hex), shown on the page. */
  readonly publicKey?: string
  /** The followed boxes (`[[mirror]]`); none if undefined. */
  readonly mirrors?: () => readonly MirrorDoc[]
  /** The event-loop delay shown on `/metrics`; none if undefined. */
  readonly eventLoopDelay?: { sample: () => EventLoopDelaySample }
}

export interface StatusPageEvents {
  /** An action answered with 202 failed afterwards. */
  warning: [failure: ActionFailure]
}

/** Free space changes slowly, and a statfs of a drive can be slow: look again this often. */
const SPACE_REFRESH_MS = 10_000
/** How often open pages are told of a mirror's progress: nothing else announces it (a download moves no item of ours). */
const MIRRORS_REFRESH_MS = 1000

/**
 * The LAN status page, its JSON API, live events, actions and Prometheus metrics, on `http`:
 *
 * - `GET /` and its assets — the page; read-only, no login
 * - `GET /api/status` — the whole status document (shape in docs/api.md)
 * - `GET /api/events` — server-sent events: `snapshot`, then `delta`s
 * - `POST /api/actions/<rescan|eject|eject-drive|pause|resume>` — `Authorization: Bearer <web.admin_token>`
 * - `GET /metrics` — Prometheus text format
 * - `GET /qr/<infohash>.svg` — a QR code of the item's magnet link
 *
 * It reads only the status model and the catalog; `close()` ends the event streams and timers.
 */
export class StatusPage extends EventEmitter<StatusPageEvents> {
  private readonly options: StatusPageOptions
  private readonly events: StatusEvents
  private readonly space: DiskSpace
  private readonly eta: HashingEta
  private readonly now: () => number
  private readonly bootedAt: number
  private readonly name: string
  private readonly addresses: () => string[]
  private readonly spaceTimer: NodeJS.Timeout
  private readonly mirrorsTimer: NodeJS.Timeout | undefined
  private mirrorsKey = ''
  private readonly qrCodes = new WeakMap<PublishedTorrent, string>()
  private librariesKey = ''
  private adminToken: string
  private actions: RouteHandler

  constructor (http: HttpServer, options: StatusPageOptions) {
    super()
    this.options = options
    this.now = options.now ?? Date.now
    this.bootedAt = this.now() - Math.round(uptime() * 1000)
    this.name = options.name ?? hostname()
    this.addresses = options.addresses ?? lanAddresses
    this.space = new DiskSpace()
    this.eta = new HashingEta(this.now)
    this.events = new StatusEvents(() => this.document(), options.eventStreams)
    this.adminToken = options.adminToken
    this.actions = this.actionsHandler()
    options.status.on('change', this.onChange)
    options.led?.on('pattern', this.onLed)
    this.spaceTimer = setInterval(() => { this.refreshSpace() }, SPACE_REFRESH_MS).unref()
    if (options.mirrors !== undefined) this.mirrorsTimer = setInterval(() => { this.refreshMirrors() }, MIRRORS_REFRESH_MS).unref()
    this.refreshSpace()
    this.route(http)
  }

  /** The status document as `/api/status` serves it now. */
  document (snapshot: StatusSnapshot = this.options.status.snapshot()): StatusDocument {
    const { catalog, commands, trackers, version, publicKey } = this.options
    this.eta.keepOnly(snapshot.items)
    return buildStatusDocument(snapshot, {
      now: this.now(),
      box: { name: this.name, version, bootedAt: this.bootedAt, addresses: this.addresses(), trackers: trackers(), ...(publicKey !== undefined && { publicKey }) },
      torrent: (infoHash) => catalog.get(infoHash),
      space: (path) => this.space.get(path),
      hashing: (item) => this.eta.etaOf(item),
      leds: this.leds(snapshot),
      actions: { enabled: this.adminToken !== '', available: availableActions(commands) },
      mirrors: this.options.mirrors?.() ?? []
    })
  }

  /** Open event streams, for the benchmark and tests. */
  get eventClients (): number {
    return this.events.clientCount
  }

  /** New settings while running (a config reload): the admin token, and the stream bounds for streams opened from now on. */
  apply (settings: Settings): void {
    const options = statusPageOptionsFrom(settings)
    this.events.setLimits(options.eventStreams)
    if (options.adminToken === this.adminToken) return
    this.adminToken = options.adminToken
    this.actions = this.actionsHandler()
  }

  async close (): Promise<void> {
    this.options.status.off('change', this.onChange)
    this.options.led?.off('pattern', this.onLed)
    clearInterval(this.spaceTimer)
    clearInterval(this.mirrorsTimer)
    this.events.close()
  }

  /** The page's own files are not among these routes: the front door mounts them (`mountStatusPageAssets`) before the service loads. */
  private route (http: HttpServer): void {
    const ownHost = ownHostOnly(this.options.hostNames ?? (() => ownHostNames(hostname(), hostname())))
    http.route(['GET', 'HEAD'], '/api/status', ownHost((_req, res) => { sendJson(res, 200, this.document()) }))
    http.route(['GET'], '/api/events', ownHost(this.events.handle))
    http.route(['POST'], '/api/actions/*', ownHost(async (req, res, match) => { await this.actions(req, res, match) }))
    http.route(['GET', 'HEAD'], '/metrics', (req, res) => {
      send(req, res, 200, metricsText(this.document(), this.options.eventLoopDelay?.sample()), { 'Content-Type': METRICS_CONTENT_TYPE, 'Cache-Control': 'no-store' })
    })
    http.route(['GET', 'HEAD'], '/qr/*', this.handleQr)
  }

  private actionsHandler (): RouteHandler {
    const { status, commands } = this.options
    return statusActionsHandler({
      adminToken: this.adminToken,
      commands,
      itemPath: (id) => itemPathOf(status.snapshot(), id),
      drivePath: (id) => drivePathOf(status.snapshot(), id),
      onLateFailure: (failure) => { this.emit('warning', failure) }
    })
  }

  private readonly handleQr = async (req: IncomingMessage, res: ServerResponse, match: RouteMatch): Promise<void> => {
    const infoHash = /^([0-9a-f]{40})\.svg$/.exec(match.rest)?.[1]
    const torrent = infoHash === undefined ? undefined : this.options.catalog.get(infoHash)
    if (torrent === undefined) {
      sendStatus(res, 404)
      return
    }
    let svg = this.qrCodes.get(torrent)
    if (svg === undefined) {
      // The QR encoder is loaded by the first QR code asked for, not at start-up, before the page can answer.
      const { qrSvg } = await import('./magnet-qr.js')
      svg = qrSvg(magnetUri(torrent.metainfo), `QR code of the magnet link of ${torrent.metainfo.name}`)
      this.qrCodes.set(torrent, svg)
    }
    sendCached(req, res, svg, 'image/svg+xml')
  }

  private readonly onChange = (snapshot: StatusSnapshot): void => {
    const librariesKey = JSON.stringify(snapshot.libraries)
    if (librariesKey !== this.librariesKey) {
      this.librariesKey = librariesKey
      this.refreshSpace()
    }
    this.publish(snapshot)
  }

  private readonly onLed = (): void => { this.publish() }

  private publish (snapshot?: StatusSnapshot): void {
    // With no page open there is nobody to tell; a page that opens gets a fresh snapshot.
    if (this.events.clientCount === 0) return
    this.events.publish(this.document(snapshot))
  }

  private leds (snapshot: StatusSnapshot): LedDoc[] {
    const pattern = this.options.led?.pattern ?? patternFor(snapshot, this.now())
    return [{ name: 'status', pattern: pattern.name, onMs: pattern.onMs, offMs: pattern.offMs, colour: pattern.colour, meaning: pattern.meaning }]
  }

  /** Publishes when the mirrors changed since the last look; the whole document is built only then. */
  private refreshMirrors (): void {
    if (this.events.clientCount === 0) return
    const key = JSON.stringify(this.options.mirrors?.() ?? [])
    if (key === this.mirrorsKey) return
    this.mirrorsKey = key
    this.publish()
  }

  private refreshSpace (): void {
    const present = this.options.status.snapshot().libraries.filter((library) => library.state === 'present').map((library) => library.path)
    void this.space.refresh(present).then((changed) => { if (changed) this.publish() })
  }
}

/** Mounts the status page, API, events, actions and metrics on `http`. */
export function registerStatusPage (http: HttpServer, options: StatusPageOptions): StatusPage {
  return new StatusPage(http, options)
}

/** `handler` for requests whose `Host` names this box; others get 421 (DNS rebinding guard). */
function ownHostOnly (hostNames: () => ReadonlySet<string>): (handler: RouteHandler) => RouteHandler {
  return (handler) => async (req, res, match) => {
    const names = hostNames()
    if (isOwnHost(req.headers.host, names)) {
      await handler(req, res, match)
      return
    }
    sendJsonError(res, 421, 'ET_HOST', `this box does not answer to the host "${req.headers.host ?? ''}": reach it by its IP address, ${[...names].map((name) => `"${name}"`).join(', ')} (set network.announce_host for another name)`)
  }
}

/** Addresses a person on the LAN could type: no loopback, no link-local IPv6 (it needs a zone). */
function lanAddresses (): string[] {
  const addresses: string[] = []
  for (const entries of Object.values(networkInterfaces())) {
    for (const entry of entries ?? []) {
      if (entry.internal || (entry.family === 'IPv6' && entry.address.toLowerCase().startsWith('fe80:'))) continue
      addresses.push(entry.address)
    }
  }
  return addresses.sort((a, b) => Number(a.includes(':')) - Number(b.includes(':')))
}
