import test from 'ava'
import { encodeHashes, encodeHashReject, HASH_REQUEST_BYTES, parseHashRequest } from '../../appliance/seeder/hash-message.js'
import { answerHashes, hashRequestProblem, MAX_HASHES_PER_REQUEST, pieceBelow, uncleCount, type HashRequest } from '../../appliance/seeder/hash-request.js'

const root = Buffer.alloc(32, 7)
const request = (fields: Partial<HashRequest>): HashRequest => ({ root, base: 0, index: 0, length: 2, proofLayers: 0, ...fields })

/** The message as a peer writes it: id 21, the root, four big-endian uint32. */
function rawRequest (numbers: readonly number[], id = 21, rootBytes: Buffer = root): Buffer {
  const message = Buffer.alloc(1 + 32 + 4 * numbers.length)
  message[0] = id
  rootBytes.copy(message, 1)
  numbers.forEach((value, at) => message.writeUInt32BE(value, 33 + at * 4))
  return message
}

test('a hash request is 49 bytes: id 21, the pieces root, base, index, length, proof layers', (t) => {
  t.is(HASH_REQUEST_BYTES, 49)
  t.deepEqual(parseHashRequest(rawRequest([2, 512, 512, 9])), request({ base: 2, index: 512, length: 512, proofLayers: 9 }))
  // A peer's negative int32 reads as a huge uint32, which no tree has.
  t.is(parseHashRequest(rawRequest([0, 0xffffffff, 2, 0]))?.index, 0xffffffff)
  t.is(parseHashRequest(rawRequest([0, 0, 2])), undefined, 'too short')
  t.is(parseHashRequest(rawRequest([0, 0, 2, 0, 0])), undefined, 'too long')
  t.is(parseHashRequest(rawRequest([0, 0, 2, 0], 22)), undefined, 'another message')
})

test('hashes and hash reject echo the request\'s fields after their length prefix and id (BEP 52, as libtorrent 2.0.8 writes them)', (t) => {
  const asked = request({ base: 1, index: 4, length: 4, proofLayers: 3 })
  const hashes = Buffer.alloc(5 * 32, 9)
  const frame = encodeHashes(asked, hashes)
  t.is(frame.readUInt32BE(0), 49 + 5 * 32)
  t.is(frame[4], 22)
  t.deepEqual(frame.subarray(5, 37), root)
  t.deepEqual([frame.readUInt32BE(37), frame.readUInt32BE(41), frame.readUInt32BE(45), frame.readUInt32BE(49)], [1, 4, 4, 3])
  t.deepEqual(frame.subarray(53), hashes)
  const reject = encodeHashReject(asked)
  t.is(reject.readUInt32BE(0), 49)
  t.is(reject[4], 23)
  t.deepEqual(reject.subarray(5), frame.subarray(5, 53))
  t.deepEqual(parseHashRequest(Buffer.concat([Buffer.from([21]), reject.subarray(5)])), asked, 'a reject carries the request unchanged')
})

test('validation: base below the root, length a power of two from 2 to 8192, index a multiple of it within the padded layer, proof layers below the root', (t) => {
  // A tree of height 5: 32 leaves.
  const height = 5
  t.is(hashRequestProblem(request({}), height), undefined)
  t.is(hashRequestProblem(request({ base: 4, length: 2 }), height), undefined, 'the two children of the root')
  t.is(hashRequestProblem(request({ base: 5 }), height), 'bad-base', 'the root itself is no layer to ask for')
  t.is(hashRequestProblem(request({ base: 2 ** 31 }), height), 'bad-base')
  t.is(hashRequestProblem(request({ length: 1 }), height), 'bad-length')
  t.is(hashRequestProblem(request({ length: 0 }), height), 'bad-length')
  t.is(hashRequestProblem(request({ length: 6 }), height), 'bad-length')
  t.is(hashRequestProblem(request({ length: 32 }), height), undefined, 'the whole leaf layer')
  t.is(hashRequestProblem(request({ length: 64 }), height), 'bad-index', 'wider than the layer')
  t.is(hashRequestProblem(request({ length: MAX_HASHES_PER_REQUEST * 2 }), 20), 'bad-length', 'over 8192 hashes')
  t.is(hashRequestProblem(request({ length: MAX_HASHES_PER_REQUEST }), 20), undefined)
  t.is(hashRequestProblem(request({ index: 2, length: 4 }), height), 'bad-index', 'not a multiple of the length')
  t.is(hashRequestProblem(request({ index: 30, length: 2 }), height), undefined, 'the last two leaves')
  t.is(hashRequestProblem(request({ index: 32, length: 2 }), height), 'bad-index', 'past the layer')
  t.is(hashRequestProblem(request({ index: 0xfffffffe, length: 2 }), height), 'bad-index')
  t.is(hashRequestProblem(request({ proofLayers: 4 }), height), undefined, 'up to the root\'s children')
  t.is(hashRequestProblem(request({ proofLayers: 5 }), height), 'bad-proof-layers')
  t.is(hashRequestProblem(request({ base: 3, proofLayers: 1 }), height), undefined)
  t.is(hashRequestProblem(request({ base: 3, proofLayers: 2 }), height), 'bad-proof-layers')
})

test('uncles: one per proof layer from the run\'s own subtree root up; the first log2(length) - 1 proof layers need none', (t) => {
  t.is(uncleCount(request({ length: 2, proofLayers: 0 })), 0)
  t.is(uncleCount(request({ length: 2, proofLayers: 1 })), 1)
  t.is(uncleCount(request({ length: 2, proofLayers: 4 })), 4)
  t.is(uncleCount(request({ length: 512, proofLayers: 8 })), 0)
  t.is(uncleCount(request({ length: 512, proofLayers: 9 })), 1)
  t.is(uncleCount(request({ length: 512, proofLayers: 11 })), 3)
})

test('answerHashes: the run, then the sibling of each ancestor from the run\'s subtree root up', (t) => {
  const seen: Array<[number, number]> = []
  const node = (layer: number, index: number): Buffer => {
    seen.push([layer, index])
    return Buffer.alloc(32, layer * 16 + index)
  }
  // Leaves 4..7 of a tree of height 4: the run's subtree root is node 1 of layer 2, its sibling node 0; then node 1 of layer 3.
  const out = answerHashes(request({ base: 0, index: 4, length: 4, proofLayers: 3 }), node)
  t.deepEqual(seen, [[0, 4], [0, 5], [0, 6], [0, 7], [2, 0], [3, 1]])
  t.is(out.length, 6 * 32)
  t.deepEqual(out.subarray(5 * 32), Buffer.alloc(32, 3 * 16 + 1))
})

test('pieceBelow: a run below the piece layer lies in one piece when it is no wider than one', (t) => {
  // Pieces of 4 blocks: the piece layer is 2.
  t.is(pieceBelow(request({ base: 2, index: 4, length: 4 }), 2), undefined, 'at the piece layer')
  t.is(pieceBelow(request({ base: 0, index: 8, length: 4 }), 2), 2)
  t.is(pieceBelow(request({ base: 1, index: 6, length: 2 }), 2), 3)
  t.is(pieceBelow(request({ base: 0, index: 0, length: 8 }), 2), 'spans-pieces')
})
