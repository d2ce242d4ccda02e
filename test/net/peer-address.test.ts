import test from 'ava'
import { formatPeerAddress, parsePeerAddress } from '../../appliance/net/peer-address.js'

test('parses IPv4 and bracketed IPv6 peers as trackers report them', (t) => {
  t.deepEqual(parsePeerAddress('127.0.0.1:6881'), { ip: '127.0.0.1', port: 6881 })
  t.deepEqual(parsePeerAddress('[::1]:51413'), { ip: '::1', port: 51413 })
})

test('refuses hostnames, bad ports and garbage', (t) => {
  for (const text of ['example.com:80', '1.2.3.4:0', '1.2.3.4:65536', '1.2.3.4', '::1:80', '[::1]', '999.1.1.1:80', '']) {
    t.is(parsePeerAddress(text), undefined, text)
  }
})

test('formats IPv6 hosts in brackets', (t) => {
  t.is(formatPeerAddress('::1', 80), '[::1]:80')
  t.is(formatPeerAddress('10.0.0.1', 80), '10.0.0.1:80')
  t.is(formatPeerAddress('::ffff:192.0.2.7', 80), '192.0.2.7:80')
})
