import test from 'ava'
import { isPrivateAddress, publicEndpoint, PublicHost, type RouterView } from '../../appliance/network/public-host.js'

const OWN = { tracker: 6969, http: 8080, peer: 6881 }
const MAPPED: RouterView = {
  externalAddress: '203.0.113.1',
  mappings: [
    { protocol: 'tcp', externalPort: 16881, purpose: 'peer' },
    { protocol: 'tcp', externalPort: 16969, purpose: 'tracker' },
    { protocol: 'udp', externalPort: 16969, purpose: 'tracker' }
  ]
}

test('empty: no public endpoint, whatever the router says', (t) => {
  t.is(publicEndpoint('', OWN, MAPPED, undefined), undefined)
})

test('auto: the router\'s external address and the ports mapped there, nothing else', (t) => {
  t.deepEqual(publicEndpoint('auto', OWN, MAPPED, undefined), { host: '203.0.113.1', ip: '203.0.113.1', trackerPort: 16969, peerPort: 16881 })
  t.is(publicEndpoint('auto', OWN, undefined, undefined), undefined, 'no router yet')
  t.is(publicEndpoint('auto', OWN, { externalAddress: '203.0.113.1', mappings: [] }, undefined), undefined, 'nothing mapped')
  t.is(publicEndpoint('auto', OWN, { ...MAPPED, externalAddress: '100.64.3.4' }, undefined), undefined, 'a carrier-grade NAT address is not public')
  t.is(publicEndpoint('auto', OWN, { ...MAPPED, externalAddress: '192.168.1.1' }, undefined), undefined, 'a router behind another router')
})

test('a name or an address: that host, with mapped external ports where there are, the own ones otherwise', (t) => {
  t.deepEqual(publicEndpoint('198.51.100.7', OWN, undefined, undefined), { host: '198.51.100.7', ip: '198.51.100.7', trackerPort: 6969, httpPort: 8080, peerPort: 6881 })
  t.deepEqual(publicEndpoint('box.example.org', OWN, MAPPED, '198.51.100.8'), { host: 'box.example.org', ip: '198.51.100.8', trackerPort: 16969, httpPort: 8080, peerPort: 16881 })
  t.deepEqual(publicEndpoint('box.example.org', OWN, undefined, undefined), { host: 'box.example.org', trackerPort: 6969, httpPort: 8080, peerPort: 6881 }, 'not resolved yet: no address for peers')
})

test('private ranges, IPv4 and IPv6', (t) => {
  for (const address of ['10.1.2.3', '172.20.0.1', '192.168.0.1', '100.100.0.1', '169.254.1.1', '127.0.0.1', 'fd00::1', 'fe80::1', '::1']) t.true(isPrivateAddress(address), address)
  for (const address of ['203.0.113.1', '8.8.8.8', '2001:db8::1', '172.32.0.1']) t.false(isPrivateAddress(address), address)
})

test('PublicHost resolves a name, says change, warns once while it does not resolve and keeps the last address', async (t) => {
  let answer: string | Error = '198.51.100.9'
  const resolve = async (): Promise<string> => { if (answer instanceof Error) throw answer; return answer }
  const host = new PublicHost({ setting: 'box.example.org', ports: OWN, resolve, refreshMs: 20 })
  t.teardown(() => { host.close() })
  const changes: Array<string | undefined> = []
  const warnings: string[] = []
  host.on('change', (endpoint) => changes.push(endpoint?.ip))
  host.on('warning', (error) => warnings.push(error.code))
  await host.start()
  t.is(host.endpoint?.ip, '198.51.100.9')
  answer = Object.assign(new Error('not found'), { code: 'ENOTFOUND' })
  await new Promise((resolve) => setTimeout(resolve, 120))
  t.deepEqual(warnings, ['ET_PUBLIC_HOST'], 'one warning for many failed lookups')
  t.is(host.endpoint?.ip, '198.51.100.9', 'the last address is kept')
  answer = '198.51.100.10'
  await new Promise((resolve) => setTimeout(resolve, 80))
  t.is(host.endpoint?.ip, '198.51.100.10')
  t.deepEqual(changes, ['198.51.100.9', '198.51.100.10'])
})

test('PublicHost follows the router in auto mode and the setting on reload', async (t) => {
  const host = new PublicHost({ setting: 'auto', ports: OWN, resolve: async () => { throw new Error('no lookup expected') } })
  t.teardown(() => { host.close() })
  const changes: Array<string | undefined> = []
  host.on('change', (endpoint) => changes.push(endpoint?.host))
  await host.start()
  t.is(host.endpoint, undefined)
  host.setRouter(MAPPED)
  host.setRouter(MAPPED)
  t.is(host.endpoint?.peerPort, 16881)
  await host.setSetting('')
  await host.setSetting('2001:db8::5')
  t.deepEqual(changes, ['203.0.113.1', undefined, '2001:db8::5'], 'one change each, none for the same router view twice')
})

test('a public host that is no name, address, "auto" or empty is a config error naming the key, at start and on reload', async (t) => {
  for (const bad of ['http://box.example.org', 'box example.org', 'box.example.org:8080', '-box.example.org', 'a'.repeat(64) + '.org', '[2001:db8::1]']) {
    t.like(t.throws(() => new PublicHost({ setting: bad, ports: OWN })), { code: 'ET_CONFIG', key: 'network.public_host' }, bad)
  }
  const host = new PublicHost({ setting: 'box.example.org', ports: OWN, resolve: async () => '198.51.100.7' })
  t.teardown(() => { host.close() })
  await t.throwsAsync(host.setSetting('not a host'), { code: 'ET_CONFIG' })
  await host.setSetting('2001:db8::1')
  t.is(host.endpoint?.host, '2001:db8::1', 'a good value after a refused one applies')
})
