import test from 'ava'
import { BLOCK_SIZE, PiecePicker, type BlockRef } from '../../appliance/download/piece-picker.js'

const all = (): boolean => true
const none = (): boolean => false

function picker (pieceCount: number, maxActivePieces = 4, pieceLength = 4 * BLOCK_SIZE, totalBytes = pieceCount * pieceLength): PiecePicker {
  return new PiecePicker({ pieceCount, pieceLength, totalBytes, maxActivePieces, random: () => 0 })
}

function receive (p: PiecePicker, blocks: readonly BlockRef[]): number[] {
  const whole: number[] = []
  for (const block of blocks) {
    const ticket = p.blockArrived(block.piece, block.offset, block.length)
    if (ticket !== undefined && p.blockWritten(block.piece, ticket)) whole.push(block.piece)
  }
  return whole
}

test('rarest first: the piece the fewest peers have is started first', (t) => {
  const p = picker(4)
  p.countPeer(all, 1)
  p.countPeer((piece) => piece !== 2, 1)
  const [first] = p.pick(all, 1, none)
  t.is(first!.piece, 2)
})

test('a peer is only asked for pieces it has, never more than the bound of active pieces, and each block once', (t) => {
  const p = picker(10, 2)
  const picked = p.pick((piece) => piece === 3 || piece === 7 || piece === 9, 100, none)
  t.deepEqual([...new Set(picked.map((block) => block.piece))].sort(), [3, 7])
  t.is(picked.length, 8)
  t.is(new Set(picked.map((block) => `${block.piece}:${block.offset}`)).size, 8)
  t.deepEqual(p.pick(all, 100, none), [], 'no new piece starts while two are active')
})

test('the last piece and its last block are short', (t) => {
  const p = picker(2, 2, 4 * BLOCK_SIZE, 4 * BLOCK_SIZE + 100)
  const blocks = p.pick((piece) => piece === 1, 10, none)
  t.deepEqual(blocks, [{ piece: 1, offset: 0, length: 100 }])
})

test('a piece is whole once every block is written; verified, it counts; failed, it is asked for again', (t) => {
  const p = picker(2, 1)
  const blocks = p.pick(all, 10, none)
  t.deepEqual(receive(p, blocks), [blocks[0]!.piece])
  p.pieceFailed(blocks[0]!.piece)
  const again = p.pick(all, 10, none)
  t.is(again.length, 4)
  t.deepEqual(receive(p, again), [again[0]!.piece])
  p.pieceVerified(again[0]!.piece)
  t.is(p.verifiedCount, 1)
  t.false(p.complete)
})

test('a block that was not asked for, or came twice, or has the wrong length, is not wanted', (t) => {
  const p = picker(2, 1)
  t.is(p.blockArrived(0, 0, BLOCK_SIZE), undefined)
  const [block] = p.pick(all, 1, none)
  t.is(p.blockArrived(block!.piece, block!.offset, 5), undefined)
  t.truthy(p.blockArrived(block!.piece, block!.offset, block!.length))
  t.is(p.blockArrived(block!.piece, block!.offset, block!.length), undefined)
})

test('a dropped request is asked again; a block dropped after it came stays received', (t) => {
  const p = picker(1, 1)
  const blocks = p.pick(all, 2, none)
  p.blockDropped(blocks[0]!.piece, blocks[0]!.offset)
  const next = p.pick(all, 1, none)
  t.deepEqual(next, [blocks[0]])
})

test('endgame: once every block is asked for, a block still out is asked of a second peer, not of the same one, and of no third', (t) => {
  const p = picker(1, 1)
  const first = p.pick(all, 10, none)
  t.is(first.length, 4)
  t.deepEqual(p.pick(all, 10, (piece, offset) => piece === 0 && offset === 0), first.slice(1))
  t.deepEqual(p.pick(all, 10, none), [first[0]])
  t.deepEqual(p.pick(all, 10, none), [])
})

test('a web seed claims whole pieces; released, the piece is free again', (t) => {
  const p = picker(2, 2)
  const piece = p.claimPiece(all)
  t.is(typeof piece, 'number')
  const other = p.claimPiece(all)
  t.not(other, piece)
  t.is(p.claimPiece(all), undefined)
  p.releasePiece(piece!)
  t.is(p.claimPiece(all), piece)
})

test('the bitfield has a bit for each verified piece, high bit first', (t) => {
  const p = picker(10, 10)
  p.pieceVerified(0)
  p.pieceVerified(9)
  t.deepEqual(p.bitfield(), Uint8Array.of(0x80, 0x40))
})
