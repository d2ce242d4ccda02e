import type { FindGateway, Gateway } from './gateway.js'
import { NatPmpGateway } from './nat-pmp-client.js'
import { readDefaultGateway } from './default-gateway.js'
import { searchGateway, UpnpGateway } from './upnp-gateway.js'

/**
 * The router, as the box finds it: NAT-PMP to the default gateway first (one datagram, answered in
 * milliseconds by a router that speaks it), then an SSDP search for a UPnP IGD. No default route:
 * no gateway, and nothing is sent.
 */
export function gatewayFinder (defaultGateway: () => Promise<string | undefined> = readDefaultGateway): FindGateway {
  return async (signal) => {
    const router = await defaultGateway()
    if (router === undefined) return undefined
    const natPmp = new NatPmpGateway({ gateway: router })
    if (await answers(natPmp, signal)) return natPmp
    const location = await searchGateway(signal)
    return location === undefined ? undefined : await UpnpGateway.open(location, signal)
  }
}

async function answers (gateway: Gateway, signal: AbortSignal): Promise<boolean> {
  try {
    await gateway.externalAddress(signal)
    return true
  } catch {
    signal.throwIfAborted()
    return false
  }
}
