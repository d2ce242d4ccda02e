import test from 'ava'
import { encodeLsdAnnounces, parseLsdAnnounce } from '../../appliance/seeder/lsd-message.js'

const HASHES = Array.from({ length: 60 }, (_, index) => index.toString(16).padStart(40, 'a'))

test('an announce is a BEP 14 BT-SEARCH message', (t) => {
  const [message] = encodeLsdAnnounces({ port: 6881, infoHashes: [HASHES[0]!], cookie: 'c0ffee' })
  t.is(message!.toString('latin1'), `BT-SEARCH * HTTP/1.1\r\nHost: 239.192.152.143:6771\r\nPort: 6881\r\nInfohash: ${HASHES[0]!}\r\ncookie: c0ffee\r\n\r\n\r\n`)
})

test('many infohashes are split over datagrams of at most 1,400 bytes, none lost', (t) => {
  const messages = encodeLsdAnnounces({ port: 51413, infoHashes: HASHES, cookie: 'x' })
  t.true(messages.length > 1)
  for (const message of messages) t.true(message.length <= 1400)
  const parsed = messages.map((message) => parseLsdAnnounce(message))
  t.deepEqual(parsed.flatMap((announce) => announce!.infoHashes), HASHES)
  for (const announce of parsed) t.is(announce!.port, 51413)
})

test('parses what other clients send, headers in any case', (t) => {
  const text = 'BT-SEARCH * HTTP/1.1\r\nHost: 239.192.152.143:6771\r\nport: 6882\r\ninfohash: ' + 'A'.repeat(40) + '\r\n\r\n\r\n'
  t.deepEqual(parseLsdAnnounce(Buffer.from(text)), { port: 6882, infoHashes: ['a'.repeat(40)], cookie: undefined })
})

test('anything else is ignored', (t) => {
  t.is(parseLsdAnnounce(Buffer.from('M-SEARCH * HTTP/1.1\r\nPort: 1\r\nInfohash: ' + 'a'.repeat(40) + '\r\n\r\n')), undefined)
  t.is(parseLsdAnnounce(Buffer.from('BT-SEARCH * HTTP/1.1\r\nPort: 70000\r\nInfohash: ' + 'a'.repeat(40) + '\r\n\r\n')), undefined)
  t.is(parseLsdAnnounce(Buffer.from('BT-SEARCH * HTTP/1.1\r\nPort: 6881\r\nInfohash: xyz\r\n\r\n')), undefined)
  t.is(parseLsdAnnounce(Buffer.from('BT-SEARCH * HTTP/1.1\r\nInfohash: ' + 'a'.repeat(40) + '\r\n\r\n')), undefined)
  t.is(parseLsdAnnounce(Buffer.alloc(10_000, 0x41)), undefined)
})
