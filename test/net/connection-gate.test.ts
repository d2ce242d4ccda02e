import { once } from 'node:events'
import { connect, createServer, type AddressInfo, type Socket } from 'node:net'
import test from 'ava'
import { addressKey, ConnectionGate } from '../../appliance/net/connection-gate.js'

test('addressKey: IPv4 as it is, IPv4-mapped IPv6 as IPv4, IPv6 by its /64 whatever its spelling', (t) => {
  t.is(addressKey('192.0.2.7'), '192.0.2.7')
  t.is(addressKey('::ffff:192.0.2.7'), '192.0.2.7')
  t.is(addressKey('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64')
  t.is(addressKey('2001:0DB8:0001:0002:ffff:ffff:ffff:ffff'), '2001:db8:1:2::/64')
  t.is(addressKey('2001:db8::1'), '2001:db8:0:0::/64')
  t.is(addressKey('fe80::1%eth0'), 'fe80:0:0:0::/64')
  t.not(addressKey('2001:db8:1:3::1'), addressKey('2001:db8:1:2::1'))
})

test('admit and release: the per-address bound, then the total bound; a release frees the slot', (t) => {
  const gate = new ConnectionGate({ total: 3, perAddress: 2 })
  t.is(gate.admit('10.0.0.1'), undefined)
  t.is(gate.admit('::ffff:10.0.0.1'), undefined)
  t.is(gate.admit('10.0.0.1'), 'address-limit')
  t.is(gate.admit('10.0.0.2'), undefined)
  t.is(gate.admit('10.0.0.3'), 'connection-limit')
  t.is(gate.size, 3)
  gate.release('10.0.0.1')
  t.is(gate.admit('10.0.0.1'), undefined)
  gate.release('10.0.0.9')
  t.is(gate.size, 3, 'releasing an address never admitted changes nothing')
})

test('guard: connections over the per-address bound are closed at once, the others stay and are released on close', async (t) => {
  const gate = new ConnectionGate({ total: 100, perAddress: 3 })
  const refused: string[] = []
  const server = createServer((socket) => { socket.on('error', () => {}) })
  gate.guard(server, (_address, reason) => refused.push(reason))
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => server.close())
  const port = (server.address() as AddressInfo).port
  const open = async (localAddress: string): Promise<Socket> => {
    const socket = connect({ port, host: '127.0.0.1', localAddress })
    socket.on('error', () => {})
    await once(socket, 'connect')
    return socket
  }
  const sockets = await Promise.all(Array.from({ length: 5 }, async () => await open('127.0.0.2')))
  const other = await open('127.0.0.3')
  t.teardown(() => { for (const socket of [...sockets, other]) socket.destroy() })
  await new Promise((resolve) => setTimeout(resolve, 200))
  t.deepEqual(refused, ['address-limit', 'address-limit'])
  t.is(sockets.filter((socket) => socket.destroyed || socket.readableEnded).length, 2, 'two of five closed by the server')
  t.false(other.destroyed, 'another address still gets in')
  t.is(gate.size, 4)
  other.destroy()
  await new Promise((resolve) => setTimeout(resolve, 100))
  t.is(gate.size, 3)
})
