import test from 'ava'
import { LocalNetworks } from '../../appliance/net/local-networks.js'

test('an address on an interface\'s subnet or loopback is local; others are not', (t) => {
  const networks = new LocalNetworks({ list: () => [{ address: '192.168.77.2', prefix: 24 }, { address: '2001:db8:1::2', prefix: 64 }] })
  for (const address of ['192.168.77.9', '::ffff:192.168.77.200', '127.0.0.2', '::1', '2001:db8:1::99']) t.true(networks.contains(address), address)
  for (const address of ['192.168.78.1', '203.0.113.2', '2001:db8:2::1', 'not an address']) t.false(networks.contains(address), address)
})

test('the interface list is read again after refreshMs', (t) => {
  let now = 0
  let list = [{ address: '10.0.0.2', prefix: 8 }]
  const networks = new LocalNetworks({ list: () => list, refreshMs: 1000, now: () => now })
  t.true(networks.contains('10.9.9.9'))
  list = []
  t.true(networks.contains('10.9.9.9'), 'cached')
  now = 1000
  t.false(networks.contains('10.9.9.9'))
})
