import test from 'ava'
import { isOwnHost, ownHostNames, ownHostOf } from '../../appliance/net/own-host.js'

const names = ownHostNames('Evertorrent', 'box.example.org')

test('the names of the box: localhost, the hostname, <hostname>.local and the announce host, lower-case', (t) => {
  t.deepEqual([...names].sort(), ['box.example.org', 'evertorrent', 'evertorrent.local', 'localhost'])
  t.deepEqual([...ownHostNames('pi', '[2001:db8::7]')].sort(), ['2001:db8::7', 'localhost', 'pi', 'pi.local'])
})

test('a Host naming the box is accepted whatever its port and case, and IP literals always are', (t) => {
  for (const host of ['evertorrent', 'EverTorrent:8080', 'evertorrent.local', 'evertorrent.local.', 'localhost:80', 'box.example.org:6969',
    '192.168.1.20', '192.168.1.20:8080', '[::1]', '[2001:db8::7]:8080', '127.0.0.1:1']) {
    t.true(isOwnHost(host, names), host)
  }
})

test('any other Host, a missing one or a malformed one is refused', (t) => {
  for (const host of [undefined, '', 'attacker.example', 'attacker.example:8080', 'evertorrent.attacker.example', 'localhost.attacker.example',
    'evertorrent.localx', '[evertorrent]', 'evertorrent:80:80', 'a b', '[::1']) {
    t.false(isOwnHost(host, names), String(host))
  }
})

test('ownHostOf gives the host and port of a Host naming the box, for URLs handed back; nothing for another', (t) => {
  t.deepEqual(ownHostOf('EverTorrent.local.:8080', names), { host: 'evertorrent.local', port: 8080 })
  t.deepEqual(ownHostOf('192.168.1.20', names), { host: '192.168.1.20' })
  t.deepEqual(ownHostOf('[2001:DB8::7]:80', names), { host: '2001:db8::7', port: 80 })
  t.deepEqual(ownHostOf('localhost:', names), { host: 'localhost' })
  t.deepEqual(ownHostOf('localhost:99999', names), { host: 'localhost' })
  for (const host of [undefined, 'attacker.example:8080', 'a b', '[::1']) t.is(ownHostOf(host, names), undefined, String(host))
})
