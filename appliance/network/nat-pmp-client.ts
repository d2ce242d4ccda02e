import { createSocket } from 'node:dgram'
import type { Gateway, GrantedMapping, MappedPort } from './gateway.js'
import { PortMappingError } from './errors.js'
import {
  decodeNatPmpResponse, encodeExternalAddressRequest, encodeMappingRequest, NAT_PMP_PORT,
  responseOpcodeFor, type MappingRequest, type NatPmpResponse
} from './nat-pmp-message.js'

export interface NatPmpOptions {
  readonly gateway: string
  /** Default 5351; tests point it elsewhere. */
  readonly port?: number
  /**
   * RFC 6886 §3.1 retries from 250 ms, doubling, up to 9 times (about a minute); a router that has
   * not answered in three (1.75 s) is taken as not speaking NAT-PMP, and UPnP is tried instead.
   */
  readonly tries?: number
  readonly firstWaitMs?: number
}

/** A NAT-PMP gateway (RFC 6886): one UDP socket per request, connected, so an ICMP refusal ends it at once. */
export class NatPmpGateway implements Gateway {
  readonly method = 'nat-pmp'
  readonly address: string
  private readonly port: number
  private readonly tries: number
  private readonly firstWaitMs: number

  constructor (options: NatPmpOptions) {
    this.address = options.gateway
    this.port = options.port ?? NAT_PMP_PORT
    this.tries = options.tries ?? 3
    this.firstWaitMs = options.firstWaitMs ?? 250
  }

  async externalAddress (signal: AbortSignal): Promise<string> {
    const response = await this.request(encodeExternalAddressRequest(), signal)
    if (response.kind !== 'external-address') throw new PortMappingError('ET_GATEWAY_MALFORMED', 'NAT-PMP gateway answered another question')
    return response.address
  }

  async map (request: MappingRequest, signal: AbortSignal): Promise<GrantedMapping> {
    const response = await this.request(encodeMappingRequest(request), signal)
    if (response.kind !== 'mapping' || response.internalPort !== request.internalPort) {
      throw new PortMappingError('ET_GATEWAY_MALFORMED', 'NAT-PMP gateway answered for another port')
    }
    return { externalPort: response.externalPort, lifetimeSeconds: response.lifetimeSeconds }
  }

  async unmap (mapping: MappedPort, signal: AbortSignal): Promise<void> {
    // RFC 6886 §3.4: lifetime 0 and external port 0 delete the mapping.
    await this.request(encodeMappingRequest({ protocol: mapping.protocol, internalPort: mapping.internalPort, externalPort: 0, lifetimeSeconds: 0 }), signal)
  }

  private async request (message: Buffer, signal: AbortSignal): Promise<NatPmpResponse> {
    signal.throwIfAborted()
    const expectedOpcode = responseOpcodeFor(message)
    const socket = createSocket('udp4')
    let timer: NodeJS.Timeout | undefined
    let onAbort: (() => void) | undefined
    try {
      return await new Promise<NatPmpResponse>((resolve, reject) => {
        let lastProblem: PortMappingError | undefined
        const fail = (error: unknown): void => {
          reject(error instanceof PortMappingError ? error : new PortMappingError('ET_GATEWAY_UNREACHABLE', `NAT-PMP gateway ${this.address}: ${(error as Error).message}`, { cause: error }))
        }
        onAbort = () => fail(signal.reason)
        signal.addEventListener('abort', onAbort, { once: true })
        socket.on('error', fail)
        socket.on('message', (datagram, from) => {
          if (from.address !== this.address || datagram.length < 2 || datagram.readUInt8(1) !== expectedOpcode) return
          try {
            resolve(decodeNatPmpResponse(datagram))
          } catch (error) {
            if ((error as PortMappingError).code === 'ET_GATEWAY_REFUSED') fail(error)
            // Another malformed datagram may be followed by the right one: keep waiting.
            lastProblem = error as PortMappingError
          }
        })
        const send = (attempt: number): void => {
          if (attempt === this.tries) {
            fail(lastProblem ?? new PortMappingError('ET_GATEWAY_TIMEOUT', `no NAT-PMP answer from ${this.address} after ${this.tries} tries`))
            return
          }
          socket.send(message, (error) => { if (error !== null && error !== undefined) fail(error) })
          timer = setTimeout(() => send(attempt + 1), this.firstWaitMs * 2 ** attempt)
        }
        socket.connect(this.port, this.address, () => send(0))
      })
    } finally {
      clearTimeout(timer)
      if (onAbort !== undefined) signal.removeEventListener('abort', onAbort)
      socket.close()
    }
  }
}
