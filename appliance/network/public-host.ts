import { lookup } from 'node:dns/promises'
import { EventEmitter } from 'node:events'
import { BlockList, isIP } from 'node:net'
import { CodedError } from '../coded-error.js'
import { ConfigError } from '../config/settings.js'
import type { PortPurpose } from './port-mapper.js'

/** This box's own port numbers. */
export interface OwnPorts {
  readonly tracker: number
  readonly http: number
  readonly peer: number
}

/** What the router says, as the port mapper's snapshot has it. */
export interface RouterView {
  readonly externalAddress?: string
  readonly mappings: ReadonlyArray<{ readonly protocol: 'tcp' | 'udp', readonly externalPort: number, readonly purpose: PortPurpose }>
}

/** How the internet reaches this box: the host its torrents name, and the ports behind it. */
export interface PublicEndpoint {
  /** A DNS name or an address, as the setting or the router gave it. */
  readonly host: string
  /** The address handed to peers from outside as the everseed's; unknown while a name is not resolved. */
  readonly ip?: string
  /** Absent: the port is not known to be reachable from outside (not mapped). */
  readonly trackerPort?: number
  readonly httpPort?: number
  readonly peerPort?: number
}

export const PUBLIC_HOST_AUTO = 'auto'

/**
 * The public endpoint from `network.public_host`: empty, none; `auto`, the router's external address
 * and the ports mapped on it (none until the router answers); a name or address, that host with the
 * router's external port numbers where ports are mapped and this box's own otherwise (forwarded by hand).
 */
export function publicEndpoint (setting: string, own: OwnPorts, router: RouterView | undefined, resolved: string | undefined): PublicEndpoint | undefined {
  if (setting === '') return undefined
  const mapped = (purpose: 'peer' | 'tracker' | 'http'): number | undefined =>
    router?.mappings.find((mapping) => mapping.purpose === purpose && mapping.protocol === 'tcp')?.externalPort
  if (setting === PUBLIC_HOST_AUTO) {
    const address = router?.externalAddress
    // A router behind another NAT (a carrier's, a second router) reports an address nobody outside can reach.
    if (address === undefined || isPrivateAddress(address)) return undefined
    const ports = { trackerPort: mapped('tracker'), httpPort: mapped('http'), peerPort: mapped('peer') }
    if (Object.values(ports).every((port) => port === undefined)) return undefined
    return withoutUndefined({ host: address, ip: address, ...ports })
  }
  const ip = isIP(setting) !== 0 ? setting : resolved
  return withoutUndefined({
    host: setting,
    ip,
    trackerPort: mapped('tracker') ?? own.tracker,
    httpPort: mapped('http') ?? own.http,
    peerPort: mapped('peer') ?? own.peer
  })
}

const PRIVATE = new BlockList()
for (const [network, prefix] of [['10.0.0.0', 8], ['172.16.0.0', 12], ['192.168.0.0', 16], ['100.64.0.0', 10], ['169.254.0.0', 16], ['127.0.0.0', 8], ['0.0.0.0', 8]] as const) PRIVATE.addSubnet(network, prefix, 'ipv4')
for (const [network, prefix] of [['fc00::', 7], ['fe80::', 10], ['::1', 128]] as const) PRIVATE.addSubnet(network, prefix, 'ipv6')

/** An address of a private, shared (carrier-grade NAT), link-local or loopback range. */
export function isPrivateAddress (address: string): boolean {
  const family = isIP(address)
  return family !== 0 && PRIVATE.check(address, family === 4 ? 'ipv4' : 'ipv6')
}

function withoutUndefined<T extends object> (value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as T
}

function sameEndpoint (a: PublicEndpoint | undefined, b: PublicEndpoint | undefined): boolean {
  return JSON.stringify(a) === JSON.stringify(b)
}

const HOST_NAME = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i

/** Refuses a `network.public_host` that is none of: empty, `auto`, an IP address, a DNS name. */
export function checkPublicHostSetting (setting: string): void {
  if (setting === '' || setting === PUBLIC_HOST_AUTO || isIP(setting) !== 0 || HOST_NAME.test(setting)) return
  throw new ConfigError(`network.public_host: "${setting}" is not a DNS name, an IP address, "auto" or empty`, undefined, 'network.public_host')
}

export class PublicHostError extends CodedError<'ET_PUBLIC_HOST'> {}

export interface PublicHostOptions {
  readonly setting: string
  readonly ports: OwnPorts
  /** Resolves a name to one address; default: the system resolver. */
  readonly resolve?: (name: string) => Promise<string>
  /** How often a name is looked up again; default 10 minutes. */
  readonly refreshMs?: number
}

export interface PublicHostEvents {
  change: [endpoint: PublicEndpoint | undefined]
  warning: [error: PublicHostError]
}

const DEFAULT_REFRESH_MS = 10 * 60_000

/**
 * Keeps the public endpoint current as the setting changes (reload), the router reports its external
 * address and mappings, and a public name resolves to a new address; says `change` each time it does.
 * A name that does not resolve keeps the last address it had, with one warning until it resolves again.
 */
export class PublicHost extends EventEmitter<PublicHostEvents> {
  private setting: string
  private readonly ports: OwnPorts
  private readonly resolve: (name: string) => Promise<string>
  private readonly refreshMs: number
  private router: RouterView | undefined
  private resolved: string | undefined
  private current: PublicEndpoint | undefined
  private timer: NodeJS.Timeout | undefined
  private warned = false
  private closed = false

  constructor (options: PublicHostOptions) {
    super()
    checkPublicHostSetting(options.setting)
    this.setting = options.setting
    this.ports = options.ports
    this.resolve = options.resolve ?? (async (name) => (await lookup(name)).address)
    this.refreshMs = options.refreshMs ?? DEFAULT_REFRESH_MS
    this.current = publicEndpoint(this.setting, this.ports, undefined, undefined)
  }

  get endpoint (): PublicEndpoint | undefined {
    return this.current
  }

  /** Looks the name up at once (when the setting is one), then every `refreshMs`. */
  async start (): Promise<void> {
    await this.lookUp()
  }

  setRouter (router: RouterView): void {
    this.router = router
    this.update()
  }

  async setSetting (setting: string): Promise<void> {
    if (setting === this.setting) return
    checkPublicHostSetting(setting)
    this.setting = setting
    this.resolved = undefined
    this.warned = false
    this.update()
    await this.lookUp()
  }

  close (): void {
    this.closed = true
    clearTimeout(this.timer)
  }

  private needsLookup (): boolean {
    return this.setting !== '' && this.setting !== PUBLIC_HOST_AUTO && isIP(this.setting) === 0
  }

  private async lookUp (): Promise<void> {
    clearTimeout(this.timer)
    if (this.closed || !this.needsLookup()) return
    const name = this.setting
    try {
      const address = await this.resolve(name)
      if (name !== this.setting) return
      this.resolved = address
      this.warned = false
      this.update()
    } catch (error) {
      if (name !== this.setting || this.warned) return
      this.warned = true
      const reason = (error as NodeJS.ErrnoException).code ?? (error instanceof Error ? error.message : String(error))
      this.emit('warning', new PublicHostError('ET_PUBLIC_HOST', `network.public_host "${name}" does not resolve (${reason}); peers from outside are handed the last address known, if any, until it does`, { cause: error }))
    } finally {
      if (!this.closed && name === this.setting) this.timer = setTimeout(() => { void this.lookUp() }, this.refreshMs).unref()
    }
  }

  private update (): void {
    const next = publicEndpoint(this.setting, this.ports, this.router, this.resolved)
    if (sameEndpoint(next, this.current)) return
    this.current = next
    this.emit('change', next)
  }
}
