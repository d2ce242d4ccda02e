import type { Settings } from '../config/settings.js'
import { gatewayFinder } from './find-gateway.js'
import type { PortMapperOptions, PortToMap } from './port-mapper.js'

export interface ListeningPorts {
  readonly peer: number
  readonly tracker: number
  readonly http: number
  /** The DHT's UDP port, when the DHT is on. */
  readonly dht?: number
}

/** A box listening on loopback only cannot be reached through any router: mapping its ports would only open them for nothing. */
function listensOnLoopbackOnly (listenHost: string): boolean {
  return listenHost === 'localhost' || listenHost === '::1' || listenHost.startsWith('127.')
}

/** The ports to map from the settings: none when port mapping is off (the mapper then stays `off` and sends nothing). */
export function portsToMap (settings: Settings, ports: ListeningPorts): PortToMap[] {
  if (settings['network.port_mapping'] === 'off' || listensOnLoopbackOnly(settings['network.listen_host'])) return []
  return [
    { purpose: 'peer', protocol: 'tcp', port: ports.peer },
    { purpose: 'tracker', protocol: 'tcp', port: ports.tracker },
    { purpose: 'tracker', protocol: 'udp', port: ports.tracker },
    ...(settings['network.map_http_port'] ? [{ purpose: 'http', protocol: 'tcp', port: ports.http } as const] : []),
    ...(ports.dht !== undefined ? [{ purpose: 'dht', protocol: 'udp', port: ports.dht } as const] : [])
  ]
}

export function portMapperOptionsFrom (settings: Settings, ports: ListeningPorts): PortMapperOptions {
  return { ports: portsToMap(settings, ports), leaseSeconds: settings['network.port_mapping_lease'], findGateway: gatewayFinder() }
}
