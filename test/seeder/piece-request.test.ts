import test from 'ava'
import { checkRequest, MAX_BLOCK_LENGTH, pieceSize } from '../../appliance/seeder/piece-request.js'

// 3 pieces of 32 KiB and a last one of 1000 bytes.
const geometry = { pieceLength: 32768, pieceCount: 4, totalBytes: 3 * 32768 + 1000 }

test('the last piece holds what is left', (t) => {
  t.is(pieceSize(geometry, 0), 32768)
  t.is(pieceSize(geometry, 3), 1000)
  t.is(pieceSize({ pieceLength: 16384, pieceCount: 2, totalBytes: 32768 }, 1), 16384)
})

test('blocks inside a piece are served', (t) => {
  t.is(checkRequest(geometry, 0, 0, MAX_BLOCK_LENGTH), undefined)
  t.is(checkRequest(geometry, 2, 16384, 16384), undefined)
  t.is(checkRequest(geometry, 3, 0, 1000), undefined)
  t.is(checkRequest(geometry, 3, 999, 1), undefined)
  t.is(checkRequest(geometry, 1, 5, 100), undefined)
})

test('a piece beyond the last, or a negative one (a wrapped uint32), is refused', (t) => {
  t.is(checkRequest(geometry, 4, 0, 16384), 'no-such-piece')
  t.is(checkRequest(geometry, -1, 0, 16384), 'no-such-piece')
  t.is(checkRequest(geometry, 2 ** 31, 0, 16384), 'no-such-piece')
})

test('a block running past the end of its piece is refused', (t) => {
  t.is(checkRequest(geometry, 0, 16385, 16384), 'beyond-piece-end')
  t.is(checkRequest(geometry, 3, 0, 1001), 'beyond-piece-end')
  t.is(checkRequest(geometry, 3, 1000, 1), 'beyond-piece-end')
  t.is(checkRequest(geometry, 0, -16384, 16384), 'beyond-piece-end')
})

test('more than 16 KiB (BEP 3) or nothing at all is refused', (t) => {
  t.is(checkRequest(geometry, 0, 0, MAX_BLOCK_LENGTH + 1), 'bad-length')
  t.is(checkRequest(geometry, 0, 0, 32768), 'bad-length')
  t.is(checkRequest(geometry, 0, 0, 0), 'bad-length')
  t.is(checkRequest(geometry, 0, 0, -1), 'bad-length')
})
