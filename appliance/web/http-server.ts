import { EventEmitter } from 'node:events'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import type { Settings } from '../config/settings.js'
import { ConnectionGate, type ConnectionLimits, type GateRefusal } from '../net/connection-gate.js'
import { WebError } from './errors.js'

/** What a route matched: the raw (still percent-encoded) path, and the part a `/*` pattern left over. */
export interface RouteMatch {
  readonly path: string
  readonly rest: string
}

export type RouteHandler = (req: IncomingMessage, res: ServerResponse, match: RouteMatch) => void | Promise<void>
export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => void

/**
 * The options the settings table gives (see `httpServerOptionsFrom`). Required: their defaults are
 * the table's, written once there; tests build a server from `httpServerOptionsFrom(defaultSettings())`.
 */
export interface SettingsOptions {
  /** Undefined: every address, IPv6 and IPv4. */
  readonly host?: string | undefined
  /** `http.idle_seconds` in ms: a keep-alive connection with no request for this long is closed. */
  readonly idleMs: number
  /**
   * `http.headers_seconds` in ms: a request's headers must have arrived this long after the
   * connection opened or the previous response ended, or it is closed (408).
   */
  readonly headersMs: number
  /** `http.max_header_bytes`: a longer request line and headers get 431. */
  readonly maxHeaderBytes: number
  /** `http.max_connections` and `http.max_connections_per_address`: the limits of the server's gate. */
  readonly connections: ConnectionLimits
}

/** An HTTP server's options from the settings table; the one place its keys are read (at start and on reload, see `HttpServer.apply`). */
export function httpServerOptionsFrom (settings: Settings): SettingsOptions {
  const host = settings['network.listen_host']
  const total = settings['http.max_connections']
  return {
    host: host === '' ? undefined : host,
    idleMs: settings['http.idle_seconds'] * 1000,
    headersMs: settings['http.headers_seconds'] * 1000,
    maxHeaderBytes: settings['http.max_header_bytes'],
    connections: { total, perAddress: Math.min(settings['http.max_connections_per_address'], total) }
  }
}

export interface HttpServerOptions extends SettingsOptions {
  /** 0 picks a free port; read it from `port` after `start()`. */
  readonly port: number
  /**
   * Counts this server's connections, in all and per address; one over the limit is closed at once.
   * Share one gate between servers to bound them together. Default: a gate of its own with `connections`.
   */
  readonly gate?: ConnectionGate
}

export interface HttpServerEvents {
  /** A route handler failed; that request got a 500 or was cut, the server keeps going. */
  warning: [error: WebError]
  /** A connection was closed at once by the gate: too many from everyone, or from its address. */
  refused: [address: string, reason: GateRefusal]
}

/**
 * Time to receive a whole request, body included, as Node's default. Only an action's body (at most
 * 4 KiB) can take longer than its headers; this ends one trickled at a byte a minute.
 */
export const REQUEST_SECONDS = 300

/** Sent with every response; handlers may override them. */
const DEFAULT_HEADERS: Readonly<Record<string, string>> = {
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer'
}

interface Route {
  readonly methods: readonly string[]
  readonly handler: RouteHandler
}

/**
 * The appliance's one HTTP server and its tiny router. The composition root registers handlers by
 * exact path (`/announce`) or by prefix (`/webseed/*`); anything unregistered is a 404, there is no
 * file serving of its own and so no directory listing. Paths are matched raw, never normalised, so
 * `/webseed/../x` stays under `/webseed/*` for its handler to refuse.
 */
export class HttpServer extends EventEmitter<HttpServerEvents> {
  private readonly options: HttpServerOptions
  private readonly server: Server
  private readonly gate: ConnectionGate
  private readonly exact = new Map<string, Route>()
  private readonly prefixes = new Map<string, Route>()
  private readonly upgrades = new Map<string, UpgradeHandler>()
  private readonly upgradedSockets = new Set<Duplex>()
  private headersMs: number
  /** Set while routes are still being mounted after listening (see `holdUntilMounted`). */
  private mounting: { readonly done: Promise<void>, readonly release: () => void } | undefined

  constructor (options: HttpServerOptions) {
    super()
    this.options = options
    this.headersMs = options.headersMs
    this.server = createServer({
      // Node checks the header and request timeouts (set below, and by `apply`) this often (30 s by
      // default, which would triple a short headersTimeout).
      connectionsCheckingInterval: Math.min(1_000, options.headersMs),
      maxHeaderSize: options.maxHeaderBytes
    }, (req, res) => { void this.onRequest(req, res) })
    this.setTimeouts(options)
    this.gate = options.gate ?? new ConnectionGate(options.connections)
    this.gate.guard(this.server, (address, reason) => { this.emit('refused', address, reason) })
    // Node's headersTimeout starts at a request's first byte: a connection that sends nothing at all
    // would stay open for ever. Until its first request, it gets as long as headers would.
    this.server.on('connection', (socket: Socket) => { if (!socket.destroyed) socket.setTimeout(this.headersMs) })
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => { this.onUpgrade(req, socket, head) })
  }

  /**
   * New settings while running (a config reload): the connection limits (of the gate, shared or not)
   * and the timeouts apply to connections accepted and requests begun from now on; none is closed.
   * The header size limit stays as started.
   */
  apply (settings: Settings): void {
    const options = httpServerOptionsFrom(settings)
    this.setTimeouts(options)
    this.gate.setLimits(options.connections)
  }

  private setTimeouts ({ idleMs, headersMs }: SettingsOptions): void {
    this.headersMs = headersMs
    this.server.keepAliveTimeout = idleMs
    this.server.headersTimeout = headersMs
    this.server.requestTimeout = Math.max(REQUEST_SECONDS * 1000, headersMs)
  }

  /** The port listened on, once started. */
  get port (): number {
    const address = this.server.address() as AddressInfo | null
    return address?.port ?? this.options.port
  }

  /** `pattern` is an exact path, or a prefix followed by `*` (`/webseed/*`). */
  route (methods: readonly string[], pattern: string, handler: RouteHandler): void {
    const route = { methods, handler }
    if (pattern.endsWith('*')) this.prefixes.set(pattern.slice(0, -1), route)
    else this.exact.set(pattern, route)
  }

  /** Hands `Upgrade:` requests for exactly `path` (e.g. WebSocket) to `handler`; others are refused. */
  upgrade (path: string, handler: UpgradeHandler): void {
    this.upgrades.set(path, handler)
  }

  /**
   * Until `mounted()`, a request for a path with no route yet waits for the routes instead of getting a
   * 404: the status page is mounted after the port is listened on (the torrents' URLs name the port),
   * and a browser that reaches the box in that moment must get the page. Each waiting request holds
   * one connection, so the connection limits bound them.
   */
  holdUntilMounted (): void {
    let release = (): void => {}
    const done = new Promise<void>((resolve) => { release = resolve })
    this.mounting = { done, release }
  }

  /** Every route is mounted: requests held by `holdUntilMounted` go through the router now. */
  mounted (): void {
    this.mounting?.release()
    this.mounting = undefined
  }

  async start (): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error): void => {
        reject(new WebError('ET_LISTEN', `cannot listen for HTTP on ${this.options.host ?? '*'}:${this.options.port}: ${error.message}`, { cause: error }))
      }
      this.server.once('error', onError)
      this.server.listen(this.options.port, this.options.host, () => {
        this.server.off('error', onError)
        resolve()
      })
    })
  }

  /** Stops listening and ends every connection, idle keep-alive, busy or upgraded. */
  async close (): Promise<void> {
    this.mounted()
    if (!this.server.listening) return
    const closed = new Promise<void>((resolve) => { this.server.close(() => { resolve() }) })
    this.server.closeAllConnections()
    for (const socket of this.upgradedSockets) socket.destroy()
    await closed
  }

  private async onRequest (req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Past its headers, a response may take as long as it needs (a web seed to a slow client, an event
    // stream); Node sets the keep-alive timeout again once it ends.
    req.socket.setTimeout(0)
    for (const [name, value] of Object.entries(DEFAULT_HEADERS)) res.setHeader(name, value)
    const path = rawPath(req.url)
    if (path === undefined) {
      sendStatus(res, 400)
      return
    }
    if (this.mounting !== undefined && this.find(path) === undefined) await this.mounting.done
    const found = this.find(path)
    if (found === undefined) {
      sendStatus(res, 404)
      return
    }
    if (!found.route.methods.includes(req.method ?? '')) {
      res.setHeader('Allow', found.route.methods.join(', '))
      sendStatus(res, 405)
      return
    }
    try {
      await found.route.handler(req, res, found.match)
    } catch (error) {
      this.emit('warning', new WebError('ET_HANDLER', `${req.method ?? '?'} ${path} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error }))
      if (res.headersSent) res.destroy()
      else sendStatus(res, 500)
    }
  }

  private find (path: string): { route: Route, match: RouteMatch } | undefined {
    const exact = this.exact.get(path)
    if (exact !== undefined) return { route: exact, match: { path, rest: '' } }
    let best: { route: Route, match: RouteMatch } | undefined
    for (const [prefix, route] of this.prefixes) {
      if (!path.startsWith(prefix) || (best !== undefined && best.match.rest.length <= path.length - prefix.length)) continue
      best = { route, match: { path, rest: path.slice(prefix.length) } }
    }
    return best
  }

  private onUpgrade (req: IncomingMessage, socket: Duplex, head: Buffer): void {
    // An upgraded connection is the upgrade handler's to time (http.Server hands it a net.Socket).
    if ('setTimeout' in socket) (socket as Socket).setTimeout(0)
    const path = rawPath(req.url)
    const handler = path === undefined ? undefined : this.upgrades.get(path)
    if (handler === undefined) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')
      return
    }
    this.upgradedSockets.add(socket)
    socket.once('close', () => { this.upgradedSockets.delete(socket) })
    handler(req, socket, head)
  }
}

/** A plain-text response with the status's reason phrase as body (none for HEAD). */
export function sendStatus (res: ServerResponse, status: number, headers: Readonly<Record<string, string | number>> = {}): void {
  const body = `${status} ${STATUS_TEXT[status] ?? 'Error'}\n`
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body), ...headers })
  res.end(body)
}

const STATUS_TEXT: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  404: 'Not Found',
  405: 'Method Not Allowed',
  416: 'Range Not Satisfiable',
  500: 'Internal Server Error',
  503: 'Service Unavailable'
}

/** The path of an origin-form request target (`/a/b?q`), undefined for any other form. */
function rawPath (url: string | undefined): string | undefined {
  if (url === undefined || !url.startsWith('/')) return undefined
  const end = url.indexOf('?')
  return end === -1 ? url : url.slice(0, end)
}
