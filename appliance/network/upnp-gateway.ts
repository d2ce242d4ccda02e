import { createSocket } from 'node:dgram'
import { boundedHttp } from './bounded-http.js'
import { PortMappingError } from './errors.js'
import type { Gateway, GrantedMapping, MappedPort } from './gateway.js'
import type { MappingRequest } from './nat-pmp-message.js'
import { descriptionLocation, GATEWAY_SEARCH_TARGETS, mSearchMessage, SSDP_ADDRESS, SSDP_PORT } from './ssdp-message.js'
import {
  connectionServiceOf, soapActionHeader, soapEnvelope, soapResult, UPNP_ONLY_PERMANENT_LEASES, UpnpFault,
  type ConnectionService, type SoapArguments
} from './upnp-soap.js'

const MAX_DESCRIPTION_BYTES = 64 * 1024
const MAX_SOAP_ANSWER_BYTES = 16 * 1024
const SEARCH_WAIT_SECONDS = 2

export interface UpnpSearchOptions {
  /** How long to listen for answers; routers answer within the MX seconds asked for. */
  readonly waitMs?: number
  /** Where to send the M-SEARCH; default the SSDP multicast group. */
  readonly target?: { readonly address: string, readonly port: number }
}

/** Sends an SSDP search for an IGD and resolves with the first description URL a device answers with. */
export async function searchGateway (signal: AbortSignal, options: UpnpSearchOptions = {}): Promise<URL | undefined> {
  signal.throwIfAborted()
  const target = options.target ?? { address: SSDP_ADDRESS, port: SSDP_PORT }
  const socket = createSocket('udp4')
  let timer: NodeJS.Timeout | undefined
  let onAbort: (() => void) | undefined
  try {
    return await new Promise<URL | undefined>((resolve, reject) => {
      onAbort = () => reject(signal.reason)
      signal.addEventListener('abort', onAbort, { once: true })
      socket.on('error', (error) => reject(new PortMappingError('ET_GATEWAY_UNREACHABLE', `UPnP search: ${error.message}`, { cause: error })))
      socket.on('message', (datagram, from) => {
        const location = descriptionLocation(datagram, from.address)
        if (location !== undefined) resolve(location)
      })
      socket.bind(0, () => {
        for (const searchTarget of GATEWAY_SEARCH_TARGETS) {
          socket.send(mSearchMessage(searchTarget, SEARCH_WAIT_SECONDS), target.port, target.address, (error) => {
            if (error !== null && error !== undefined) socket.emit('error', error)
          })
        }
        timer = setTimeout(() => resolve(undefined), options.waitMs ?? (SEARCH_WAIT_SECONDS + 1) * 1000)
      })
    })
  } finally {
    clearTimeout(timer)
    if (onAbort !== undefined) signal.removeEventListener('abort', onAbort)
    socket.close()
  }
}

/** A UPnP Internet Gateway Device, from its description URL (as an SSDP search found it). */
export class UpnpGateway implements Gateway {
  readonly method = 'upnp'

  private constructor (private readonly service: ConnectionService, private readonly internalClient: string) {}

  get address (): string {
    return this.service.controlUrl.hostname
  }

  /** Reads the device description; undefined when it describes no WAN connection service. */
  static async open (location: URL, signal: AbortSignal): Promise<UpnpGateway | undefined> {
    const answer = await boundedHttp(location, { method: 'GET', maxBytes: MAX_DESCRIPTION_BYTES, signal })
    if (answer.status !== 200) throw new PortMappingError('ET_GATEWAY_MALFORMED', `UPnP description ${location.href}: HTTP ${answer.status}`)
    const service = connectionServiceOf(answer.body, location)
    return service === undefined ? undefined : new UpnpGateway(service, answer.localAddress)
  }

  async externalAddress (signal: AbortSignal): Promise<string> {
    const fields = await this.call('GetExternalIPAddress', [], signal)
    const address = fields.get('NewExternalIPAddress')
    if (address === undefined || address === '') throw new PortMappingError('ET_GATEWAY_MALFORMED', 'UPnP gateway knows no external address')
    return address
  }

  async map (request: MappingRequest, signal: AbortSignal): Promise<GrantedMapping> {
    try {
      await this.addPortMapping(request, request.lifetimeSeconds, signal)
      return { externalPort: request.externalPort, lifetimeSeconds: request.lifetimeSeconds }
    } catch (error) {
      // Some IGDv1 routers take only leases without expiry; such a mapping is still removed on close.
      if (!(error instanceof UpnpFault) || error.upnpCode !== UPNP_ONLY_PERMANENT_LEASES) throw error
      await this.addPortMapping(request, 0, signal)
      return { externalPort: request.externalPort, lifetimeSeconds: 0 }
    }
  }

  async unmap (mapping: MappedPort, signal: AbortSignal): Promise<void> {
    await this.call('DeletePortMapping', [
      ['NewRemoteHost', ''],
      ['NewExternalPort', mapping.externalPort],
      ['NewProtocol', mapping.protocol.toUpperCase()]
    ], signal)
  }

  private async addPortMapping (request: MappingRequest, leaseSeconds: number, signal: AbortSignal): Promise<void> {
    await this.call('AddPortMapping', [
      ['NewRemoteHost', ''],
      ['NewExternalPort', request.externalPort],
      ['NewProtocol', request.protocol.toUpperCase()],
      ['NewInternalPort', request.internalPort],
      ['NewInternalClient', this.internalClient],
      ['NewEnabled', 1],
      ['NewPortMappingDescription', `evertorrent ${request.protocol} ${request.internalPort}`],
      ['NewLeaseDuration', leaseSeconds]
    ], signal)
  }

  private async call (action: string, args: SoapArguments, signal: AbortSignal): Promise<ReadonlyMap<string, string>> {
    const { serviceType, controlUrl } = this.service
    const answer = await boundedHttp(controlUrl, {
      method: 'POST',
      headers: { 'content-type': 'text/xml; charset="utf-8"', soapaction: soapActionHeader(serviceType, action) },
      body: soapEnvelope(serviceType, action, args),
      maxBytes: MAX_SOAP_ANSWER_BYTES,
      signal
    })
    return soapResult(answer.status, answer.body, action)
  }
}
