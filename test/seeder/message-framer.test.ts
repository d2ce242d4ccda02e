import test from 'ava'
import { MAX_MESSAGE_LENGTH, MessageFramer } from '../../appliance/seeder/message-framer.js'

const HANDSHAKE = Buffer.concat([Buffer.from('\x13BitTorrent protocol', 'latin1'), Buffer.alloc(8), Buffer.alloc(20, 1), Buffer.alloc(20, 2)])

function message (length: number, body = Buffer.alloc(length)): Buffer {
  const header = Buffer.alloc(4)
  header.writeUInt32BE(length)
  return Buffer.concat([header, body])
}

test('a handshake and messages within bounds pass, however they are cut', (t) => {
  const stream = Buffer.concat([HANDSHAKE, message(0), message(1, Buffer.from([2])), message(13), message(MAX_MESSAGE_LENGTH)])
  for (const size of [1, 3, 7, 68, 1000, stream.length]) {
    const framer = new MessageFramer()
    for (let at = 0; at < stream.length; at += size) t.is(framer.push(stream.subarray(at, at + size)), undefined)
  }
})

test('anything but the BitTorrent handshake is refused at the first wrong byte', (t) => {
  t.is(new MessageFramer().push(Buffer.from('GET / HTTP/1.1\r\n\r\n')), 'bad-handshake')
  t.is(new MessageFramer().push(Buffer.from('\x13BitTorrent protocoX')), 'bad-handshake')
  const framer = new MessageFramer()
  t.is(framer.push(Buffer.from('\x13BitTorr')), undefined)
  t.is(framer.push(Buffer.from('ent Protocol')), 'bad-handshake')
})

test('a length prefix above the limit is refused before its body arrives', (t) => {
  const framer = new MessageFramer()
  t.is(framer.push(HANDSHAKE), undefined)
  t.is(framer.push(Buffer.from([0x7f, 0xff])), undefined)
  t.is(framer.push(Buffer.from([0xff, 0xff])), 'oversized-message')
  t.is(new MessageFramer().push(Buffer.concat([HANDSHAKE, message(MAX_MESSAGE_LENGTH + 1).subarray(0, 4)])), 'oversized-message')
})

test('the length of a message hidden after a large body is still checked', (t) => {
  const framer = new MessageFramer(100)
  t.is(framer.push(Buffer.concat([HANDSHAKE, message(100)])), undefined)
  t.is(framer.push(message(101).subarray(0, 4)), 'oversized-message')
})
