import { EventEmitter } from 'node:events'
import { PortMappingError } from './errors.js'
import type { FindGateway, Gateway, MappingMethod } from './gateway.js'
import type { TransportProtocol } from './nat-pmp-message.js'

export type PortPurpose = 'peer' | 'tracker' | 'http' | 'dht'
export type PortMapperState = 'off' | 'searching' | 'mapped' | 'no-gateway' | 'failed'

export interface PortToMap {
  readonly purpose: PortPurpose
  readonly protocol: TransportProtocol
  readonly port: number
}

export interface PortMapping {
  readonly protocol: TransportProtocol
  readonly internalPort: number
  readonly externalPort: number
  readonly purpose: PortPurpose
  /** Epoch milliseconds; absent for a mapping the router granted without expiry. */
  readonly expiresAt?: number
}

export interface PortMapperSnapshot {
  readonly state: PortMapperState
  /** The router's LAN address. */
  readonly gateway?: string
  readonly method?: MappingMethod
  readonly externalAddress?: string
  readonly mappings: readonly PortMapping[]
  readonly error?: string
}

export interface MapperClock {
  now: () => number
  setTimeout: (run: () => void, ms: number) => unknown
  clearTimeout: (timer: unknown) => void
}

const systemClock: MapperClock = {
  now: () => Date.now(),
  setTimeout: (run, ms) => setTimeout(run, ms).unref(),
  clearTimeout: (timer) => clearTimeout(timer as NodeJS.Timeout)
}

/** After a failure the router is asked again after 30 s, then twice as long each time, at most every 30 min. */
export const RETRY_FIRST_MS = 30_000
export const RETRY_MAX_MS = 30 * 60_000
/** One exchange with the router (search, map, unmap) gives up after this long. */
const REQUEST_TIMEOUT_MS = 10_000
/** On close, the mappings are removed within this long or left to expire. */
const UNMAP_TIMEOUT_MS = 3_000

export interface PortMapperOptions {
  readonly ports: readonly PortToMap[]
  /** The lease asked for; mappings are renewed at half of what the router grants. */
  readonly leaseSeconds: number
  readonly findGateway: FindGateway
  readonly clock?: MapperClock
}

interface PortMapperEvents {
  change: [PortMapperSnapshot]
  externalAddress: [string]
}

/**
 * Keeps the box's ports mapped on the router: finds it, maps every port, renews before the leases
 * end, and removes the mappings on close. A router that is missing or refuses is asked again with a
 * bounded backoff; nothing else depends on it. Emits `change` with each new snapshot and
 * `externalAddress` when the router's external address is learnt or changes.
 */
export class PortMapper extends EventEmitter<PortMapperEvents> {
  private state: PortMapperSnapshot
  private gateway: Gateway | undefined
  private timer: unknown
  private failures = 0
  private running: Promise<void> = Promise.resolve()
  private closed = false
  private readonly abort = new AbortController()
  private readonly clock: MapperClock

  constructor (private readonly options: PortMapperOptions) {
    super()
    this.clock = options.clock ?? systemClock
    this.state = { state: options.ports.length === 0 ? 'off' : 'searching', mappings: [] }
  }

  snapshot (): PortMapperSnapshot {
    return this.state
  }

  /** Starts mapping in the background: returns at once, whether or not a router answers. With no ports to map, it stays `off`. */
  start (): void {
    if (this.options.ports.length > 0) this.runCycle()
  }

  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.clock.clearTimeout(this.timer)
    this.abort.abort()
    await this.running
    await this.unmapAll()
  }

  private runCycle (): void {
    this.running = this.cycle()
  }

  private async cycle (): Promise<void> {
    try {
      const gateway = this.gateway ?? await this.bounded(async (signal) => await this.options.findGateway(signal))
      if (this.closed) return
      if (gateway === undefined) {
        this.fail('no-gateway', 'no router answered NAT-PMP or UPnP')
        return
      }
      this.gateway = gateway
      await this.mapWith(gateway)
    } catch (error) {
      if (this.closed) return
      // The router may have rebooted or been replaced: look for it again next time.
      this.gateway = undefined
      this.fail('failed', error instanceof Error ? error.message : String(error))
    }
  }

  private async mapWith (gateway: Gateway): Promise<void> {
    const externalAddress = await this.bounded(async (signal) => await gateway.externalAddress(signal))
    const mappings: PortMapping[] = []
    const refused: string[] = []
    for (const port of this.options.ports) {
      if (this.closed) return
      const previous = this.state.mappings.find((mapping) => mapping.protocol === port.protocol && mapping.internalPort === port.port)
      try {
        const granted = await this.bounded(async (signal) => await gateway.map({
          protocol: port.protocol,
          internalPort: port.port,
          externalPort: previous?.externalPort ?? port.port,
          lifetimeSeconds: this.options.leaseSeconds
        }, signal))
        const expiresAt = granted.lifetimeSeconds === 0 ? undefined : this.clock.now() + granted.lifetimeSeconds * 1000
        mappings.push({ protocol: port.protocol, internalPort: port.port, externalPort: granted.externalPort, purpose: port.purpose, ...(expiresAt !== undefined && { expiresAt }) })
      } catch (error) {
        if (this.closed) return
        refused.push(`${port.purpose} ${port.protocol} ${port.port}: ${error instanceof Error ? error.message : String(error)}`)
      }
    }
    if (mappings.length === 0) throw new Error(refused.join('; '))
    this.failures = 0
    const before = this.state.externalAddress
    this.update({ state: 'mapped', gateway: gateway.address, method: gateway.method, externalAddress, mappings, ...(refused.length > 0 && { error: refused.join('; ') }) })
    if (externalAddress !== before) this.emit('externalAddress', externalAddress)
    this.schedule(this.renewDelayMs(mappings))
  }

  /** Half the shortest lease granted (RFC 6886 §3.3 renews at half); a lease without expiry is checked as often as one asked for. */
  private renewDelayMs (mappings: readonly PortMapping[]): number {
    const leases = mappings.map((mapping) => mapping.expiresAt === undefined ? this.options.leaseSeconds * 1000 : mapping.expiresAt - this.clock.now())
    return Math.max(1000, Math.min(...leases) / 2)
  }

  private fail (state: 'no-gateway' | 'failed', error: string): void {
    const delay = Math.min(RETRY_FIRST_MS * 2 ** this.failures, RETRY_MAX_MS)
    this.failures++
    // Mappings granted earlier may still hold until they expire; the snapshot keeps those not yet expired.
    const now = this.clock.now()
    const mappings = this.state.mappings.filter((mapping) => mapping.expiresAt !== undefined && mapping.expiresAt > now)
    this.update({ ...this.state, state, error, mappings })
    this.schedule(delay)
  }

  private schedule (delayMs: number): void {
    if (this.closed) return
    this.timer = this.clock.setTimeout(() => this.runCycle(), delayMs)
  }

  private update (next: PortMapperSnapshot): void {
    if (JSON.stringify(next) === JSON.stringify(this.state)) return
    this.state = next
    this.emit('change', next)
  }

  /**
   * One exchange with the router, ended by close or after REQUEST_TIMEOUT_MS. (A plain timer, not
   * AbortSignal.any with AbortSignal.timeout: Node 20 can lose such a composite's timeout.)
   */
  private async bounded<T> (exchange: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController()
    const onClose = (): void => { controller.abort(this.abort.signal.reason) }
    this.abort.signal.addEventListener('abort', onClose, { once: true })
    const timer = setTimeout(() => { controller.abort(new PortMappingError('ET_GATEWAY_TIMEOUT', `the router did not answer within ${REQUEST_TIMEOUT_MS / 1000} s`)) }, REQUEST_TIMEOUT_MS)
    try {
      return await exchange(controller.signal)
    } finally {
      clearTimeout(timer)
      this.abort.signal.removeEventListener('abort', onClose)
    }
  }

  private async unmapAll (): Promise<void> {
    const gateway = this.gateway
    const mappings = this.state.mappings
    this.update({ state: 'off', mappings: [] })
    if (gateway === undefined) return
    const signal = AbortSignal.timeout(UNMAP_TIMEOUT_MS)
    await Promise.allSettled(mappings.map(async (mapping) => { await gateway.unmap(mapping, signal) }))
  }
}
