import assert from 'node:assert/strict'
import test from 'ava'
import fc from 'fast-check'
import { MessageFramer, type FramingProblem } from '../../appliance/seeder/message-framer.js'
import { propertyOptions } from './properties.js'

const LIMIT = 300
const PROTOCOL = Buffer.from('\x13BitTorrent protocol', 'latin1')
const handshake = fc.tuple(fc.uint8Array({ minLength: 48, maxLength: 48 })).map(([rest]) => Buffer.concat([PROTOCOL, rest]))
/** A message of any length up to the limit, the limit itself often. */
const message = fc.oneof(fc.constant(LIMIT), fc.nat(LIMIT)).map((length) => {
  const header = Buffer.alloc(4 + length, 7)
  header.writeUInt32BE(length)
  return header
})
const stream = fc.tuple(handshake, fc.array(message, { maxLength: 6 })).map(([head, messages]) => Buffer.concat([head, ...messages]))

/** Where a stream is cut into the chunks a socket hands over. */
const cuts = fc.array(fc.nat(), { maxLength: 12 })

/** The first problem found when `bytes` arrive in the chunks `cuts` makes; nothing is pushed after a problem. */
function verdict (bytes: Buffer, cutAt: readonly number[]): FramingProblem | undefined {
  const framer = new MessageFramer(LIMIT)
  const points = [...new Set(cutAt.map((at) => at % (bytes.length + 1)))].sort((a, b) => a - b)
  let start = 0
  for (const end of [...points, bytes.length]) {
    const problem = framer.push(bytes.subarray(start, end))
    if (problem !== undefined) return problem
    start = end
  }
  return undefined
}

test('a handshake and messages within the limit pass, however the stream is cut', (t) => {
  fc.assert(fc.property(stream, cuts, (bytes, cutAt) => { assert.equal(verdict(bytes, cutAt), undefined) }), propertyOptions(300))
  t.pass()
})

test('any bytes get the same verdict cut anywhere as in one piece', (t) => {
  const bytes = fc.oneof(fc.uint8Array({ maxLength: 200 }).map((raw) => Buffer.from(raw)), fc.tuple(stream, fc.uint8Array({ maxLength: 8 }), fc.nat()).map(([valid, noise, at]) => {
    const position = at % (valid.length + 1)
    return Buffer.concat([valid.subarray(0, position), noise, valid.subarray(position)])
  }))
  fc.assert(fc.property(bytes, cuts, (data, cutAt) => { assert.equal(verdict(data, cutAt), new MessageFramer(LIMIT).push(data)) }), propertyOptions(500))
  t.pass()
})

test('a length prefix above the limit is refused as soon as its 4 bytes are in, however cut', (t) => {
  const oversized = fc.tuple(stream, fc.integer({ min: LIMIT + 1, max: 2 ** 32 - 1 })).map(([valid, length]) => {
    const header = Buffer.alloc(4)
    header.writeUInt32BE(length)
    return Buffer.concat([valid, header])
  })
  fc.assert(fc.property(oversized, cuts, (bytes, cutAt) => { assert.equal(verdict(bytes, cutAt), 'oversized-message') }), propertyOptions(300))
  t.pass()
})

test('a stream whose protocol string differs anywhere is refused as a bad handshake', (t) => {
  const wrong = fc.tuple(stream, fc.nat(PROTOCOL.length - 1), fc.integer({ min: 1, max: 255 })).map(([valid, at, change]) => {
    const copy = Buffer.from(valid)
    copy[at] = (copy[at]! + change) % 256
    return copy
  })
  fc.assert(fc.property(wrong, cuts, (bytes, cutAt) => { assert.equal(verdict(bytes, cutAt), 'bad-handshake') }), propertyOptions(300))
  t.pass()
})
