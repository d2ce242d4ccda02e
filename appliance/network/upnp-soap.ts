import { PortMappingError } from './errors.js'

// UPnP IGD WANIPConnection (v1 and v2) and WANPPPConnection: the device description names the
// service's control URL; actions are SOAP envelopes POSTed to it.

const CONNECTION_SERVICE = /^urn:schemas-upnp-org:service:WAN(?:IP|PPP)Connection:\d$/

export interface ConnectionService {
  readonly serviceType: string
  readonly controlUrl: URL
}

/** The first WAN connection service of a device description, its control URL resolved against `location`. */
export function connectionServiceOf (description: string, location: URL): ConnectionService | undefined {
  const base = textOf(description, 'URLBase')
  for (const match of description.matchAll(/<service>([\s\S]*?)<\/service>/g)) {
    const block = match[1]!
    const serviceType = textOf(block, 'serviceType')
    const control = textOf(block, 'controlURL')
    if (serviceType === undefined || control === undefined || !CONNECTION_SERVICE.test(serviceType)) continue
    try {
      const controlUrl = new URL(control, base ?? location)
      // The control URL must stay on the device that described it.
      if (controlUrl.protocol !== 'http:' || controlUrl.host !== location.host) continue
      return { serviceType, controlUrl }
    } catch {
      continue
    }
  }
  return undefined
}

export type SoapArguments = ReadonlyArray<readonly [string, string | number]>

export function soapEnvelope (serviceType: string, action: string, args: SoapArguments): string {
  const body = args.map(([name, value]) => `<${name}>${escapeXml(String(value))}</${name}>`).join('')
  return '<?xml version="1.0"?>' +
    '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/">' +
    `<s:Body><u:${action} xmlns:u="${escapeXml(serviceType)}">${body}</u:${action}></s:Body></s:Envelope>`
}

export function soapActionHeader (serviceType: string, action: string): string {
  return `"${serviceType}#${action}"`
}

/** UPnP error codes the port mapper answers to (IGD WANIPConnection v1 §2.4). */
export const UPNP_CONFLICT = 718
export const UPNP_ONLY_PERMANENT_LEASES = 725

export class UpnpFault extends PortMappingError {
  constructor (readonly upnpCode: number | undefined, description: string) {
    super('ET_GATEWAY_REFUSED', `UPnP gateway refused: ${description}${upnpCode === undefined ? '' : ` (error ${upnpCode})`}`)
  }
}

/** The fields of a SOAP answer; a fault (HTTP 500 with a UPnPError) throws an UpnpFault. */
export function soapResult (status: number, body: string, action: string): ReadonlyMap<string, string> {
  if (status !== 200) {
    const code = textOf(body, 'errorCode')
    throw new UpnpFault(code === undefined ? undefined : Number(code), textOf(body, 'errorDescription') ?? `HTTP ${status} to ${action}`)
  }
  const fields = new Map<string, string>()
  // An action with no out arguments may answer with an empty element: `<u:AddPortMappingResponse xmlns:u="…"/>`.
  if (new RegExp(`<(?:\\w+:)?${action}Response\\b[^>]*/>`).test(body)) return fields
  const response = new RegExp(`<(?:\\w+:)?${action}Response\\b[^>]*>([\\s\\S]*?)</(?:\\w+:)?${action}Response>`).exec(body)
  if (response === null) throw new PortMappingError('ET_GATEWAY_MALFORMED', `UPnP gateway sent no ${action}Response`)
  for (const match of response[1]!.matchAll(/<(\w+)>([^<]*)<\/\1>/g)) fields.set(match[1]!, unescapeXml(match[2]!.trim()))
  return fields
}

function textOf (xml: string, element: string): string | undefined {
  const match = new RegExp(`<(?:\\w+:)?${element}>([^<]*)</(?:\\w+:)?${element}>`).exec(xml)
  return match === null ? undefined : unescapeXml(match[1]!.trim())
}

function escapeXml (text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;')
}

function unescapeXml (text: string): string {
  return text.replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&quot;', '"').replaceAll('&apos;', "'").replaceAll('&amp;', '&')
}
