import test from 'ava'
import {
  ANNOUNCE_LENGTH, EVENT_STARTED, connectionIdOf, encodeConnect, encodeScrape, errorMessageOf, parseAnnounceAnswer,
  parseScrapeAnswer, responseHead, writeAnnounce
} from '../../scripts/bench-tracker-datagrams.js'

const infoHash = Buffer.alloc(20, 0xab)
const peerId = Buffer.from('-EB0001-000000000042', 'latin1')
const connectionId = Buffer.from('0102030405060708', 'hex')

test('a connect request is the BEP 15 magic, action 0 and the transaction id', (t) => {
  t.is(encodeConnect(0xdeadbeef).toString('hex'), '0000041727101980' + '00000000' + 'deadbeef')
})

test('an announce puts every field at its BEP 15 offset, the IP left to the tracker (0)', (t) => {
  const out = writeAnnounce(Buffer.alloc(ANNOUNCE_LENGTH, 0xff), {
    connectionId, transactionId: 7, infoHash, peerId, left: 1_000_000, event: EVENT_STARTED, numwant: 50, port: 6881
  })
  t.is(out.length, 98)
  t.deepEqual(out.subarray(0, 8), connectionId)
  t.is(out.readUInt32BE(8), 1)
  t.is(out.readUInt32BE(12), 7)
  t.deepEqual(out.subarray(16, 36), infoHash)
  t.deepEqual(out.subarray(36, 56), peerId)
  t.is(out.readBigUInt64BE(56), 0n)
  t.is(out.readBigUInt64BE(64), 1_000_000n)
  t.is(out.readBigUInt64BE(72), 0n)
  t.is(out.readUInt32BE(80), 2)
  t.is(out.readUInt32BE(84), 0)
  t.is(out.readInt32BE(92), 50)
  t.is(out.readUInt16BE(96), 6881)
})

test('numwant -1 asks for the tracker\'s default', (t) => {
  const out = writeAnnounce(Buffer.alloc(ANNOUNCE_LENGTH), { connectionId, transactionId: 1, infoHash, peerId, left: 0, event: 0, numwant: -1, port: 1 })
  t.is(out.readUInt32BE(92), 0xffffffff)
})

test('a scrape of one infohash is 36 bytes: connection id, action 2, transaction id, the hash', (t) => {
  const out = encodeScrape(connectionId, 9, infoHash)
  t.is(out.toString('hex'), '0102030405060708' + '00000002' + '00000009' + 'ab'.repeat(20))
})

function answer (action: number, transactionId: number, rest: Buffer): Buffer {
  const head = Buffer.alloc(8)
  head.writeUInt32BE(action, 0)
  head.writeUInt32BE(transactionId, 4)
  return Buffer.concat([head, rest])
}

test('answers are read by action: connection id, announce counts and peers, scrape counts, error text', (t) => {
  t.deepEqual(connectionIdOf(answer(0, 1, connectionId)), connectionId)
  const counts = Buffer.alloc(12)
  counts.writeUInt32BE(1800, 0)
  counts.writeUInt32BE(3, 4)
  counts.writeUInt32BE(4, 8)
  t.deepEqual(parseAnnounceAnswer(answer(1, 2, Buffer.concat([counts, Buffer.alloc(6 * 5)]))), { interval: 1800, leechers: 3, seeders: 4, peers: 5 })
  t.deepEqual(parseScrapeAnswer(answer(2, 3, counts)), { seeders: 1800, completed: 3, leechers: 4 })
  t.is(errorMessageOf(answer(3, 4, Buffer.from('not authorized'))), 'not authorized')
  t.deepEqual(responseHead(answer(1, 5, Buffer.alloc(0))), { action: 1, transactionId: 5 })
})

test('an answer of another action or too short is not taken for the one asked', (t) => {
  t.is(connectionIdOf(answer(3, 1, connectionId)), undefined)
  t.is(parseAnnounceAnswer(answer(3, 1, Buffer.alloc(12))), undefined)
  t.is(parseAnnounceAnswer(answer(1, 1, Buffer.alloc(4))), undefined)
  t.is(parseScrapeAnswer(answer(1, 1, Buffer.alloc(12))), undefined)
  t.is(errorMessageOf(answer(1, 1, Buffer.alloc(12))), undefined)
  t.is(responseHead(Buffer.alloc(7)), undefined)
})
