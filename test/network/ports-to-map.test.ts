import test from 'ava'
import { defaultSettings, withOverrides } from '../../appliance/config/settings.js'
import { portsToMap } from '../../appliance/network/port-mapper-options.js'

const base = defaultSettings({ home: '/home/pi', hostname: 'box', stateHome: '/home/pi/.local/state' })
const ports = { peer: 6881, tracker: 6969, http: 8080 }
const described = (settings = base, with_ = ports as typeof ports & { dht?: number }): string[] =>
  portsToMap(settings, with_).map((port) => `${port.purpose}/${port.protocol}:${port.port}`)

test('the peer port (TCP), the tracker port (TCP and UDP); the HTTP port only when asked; the DHT\'s UDP port while the DHT is on', (t) => {
  t.deepEqual(described(), ['peer/tcp:6881', 'tracker/tcp:6969', 'tracker/udp:6969'])
  t.deepEqual(described(withOverrides(base, { 'network.map_http_port': true }, 'test')), ['peer/tcp:6881', 'tracker/tcp:6969', 'tracker/udp:6969', 'http/tcp:8080'])
  t.deepEqual(described(base, { ...ports, dht: 6881 }), ['peer/tcp:6881', 'tracker/tcp:6969', 'tracker/udp:6969', 'dht/udp:6881'])
})

test('nothing when port mapping is off, or when the box listens on loopback only', (t) => {
  t.deepEqual(described(withOverrides(base, { 'network.port_mapping': 'off' }, 'test'), { ...ports, dht: 6881 }), [])
  t.deepEqual(described(withOverrides(base, { 'network.listen_host': '127.0.0.1' }, 'test')), [])
})
