import type { MappingRequest, TransportProtocol } from './nat-pmp-message.js'

export type MappingMethod = 'upnp' | 'nat-pmp' | 'pcp'

export interface GrantedMapping {
  readonly externalPort: number
  /** 0: the gateway granted a mapping without expiry. */
  readonly lifetimeSeconds: number
}

export interface MappedPort {
  readonly protocol: TransportProtocol
  readonly internalPort: number
  readonly externalPort: number
}

/** A router that maps ports, through whichever protocol found it. */
export interface Gateway {
  readonly method: MappingMethod
  /** The router's LAN address. */
  readonly address: string
  externalAddress: (signal: AbortSignal) => Promise<string>
  map: (request: MappingRequest, signal: AbortSignal) => Promise<GrantedMapping>
  unmap: (mapping: MappedPort, signal: AbortSignal) => Promise<void>
}

/** Finds the gateway, or resolves undefined when nothing answers. */
export type FindGateway = (signal: AbortSignal) => Promise<Gateway | undefined>
