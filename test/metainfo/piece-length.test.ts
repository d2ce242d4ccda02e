import test from 'ava'
import { isValidPieceLength, MAX_PIECE_LENGTH, MIN_PIECE_LENGTH, pieceLengthFor } from '../../appliance/metainfo/piece-length.js'

const KiB = 1024
const MiB = 1024 * KiB
const GiB = 1024 * MiB

/** Sizes around every power-of-two boundary of the rule, plus a spread of irregular ones. */
function interestingSizes (): number[] {
  const sizes = new Set<number>([0, 1, 1000, 16 * KiB - 1, 16 * KiB, 16 * KiB + 1, 32 * MiB, 32 * GiB, 2 ** 50])
  for (let length = MIN_PIECE_LENGTH; length <= MAX_PIECE_LENGTH; length *= 2) {
    for (const pieces of [1000, 1001, 1999, 2000, 2001]) {
      for (const delta of [-1, 0, 1]) sizes.add(pieces * length + delta)
    }
  }
  let x = 12345
  for (let index = 0; index < 200; index++) {
    x = (x * 1103515245 + 12345) % 2 ** 31
    sizes.add(Math.floor((x / 2 ** 31) * 40 * GiB))
  }
  return [...sizes].filter((size) => size >= 0).sort((a, b) => a - b)
}

test('is always a power of two between 16 KiB and 16 MiB', (t) => {
  for (const size of interestingSizes()) {
    const length = pieceLengthFor(size)
    t.true(isValidPieceLength(length), `size ${size} gave ${length}`)
    t.true(length >= 16 * KiB && length <= 16 * MiB, `size ${size} gave ${length}`)
    t.is(length & (length - 1), 0, `size ${size} gave ${length}`)
  }
})

test('small content gets 16 KiB pieces', (t) => {
  for (const size of [0, 1, 16 * KiB, 1 * MiB, 2000 * 16 * KiB]) t.is(pieceLengthFor(size), 16 * KiB, `size ${size}`)
})

test('from 32 MiB to 2,000 × 16 MiB the piece count is between 1,000 and 2,000', (t) => {
  const sizes = interestingSizes().filter((size) => size >= 32 * MiB && size <= 2000 * 16 * MiB)
  t.true(sizes.length > 100)
  for (const size of sizes) {
    const pieces = Math.ceil(size / pieceLengthFor(size))
    t.true(pieces >= 1000 && pieces <= 2000, `size ${size}: ${pieces} pieces of ${pieceLengthFor(size)}`)
  }
})

test('picks the smallest length that keeps to 2,000 pieces', (t) => {
  for (const size of interestingSizes()) {
    const length = pieceLengthFor(size)
    if (length > MIN_PIECE_LENGTH) t.true(Math.ceil(size / (length / 2)) > 2000, `size ${size}: ${length / 2} would do`)
  }
})

// 16 MiB is the cap, so 32 GiB itself needs 2,048 pieces: "1,000–2,000 up to 32 GiB" holds up to 31.25 GiB.
test('beyond 2,000 × 16 MiB the piece length stays at 16 MiB', (t) => {
  t.is(pieceLengthFor(2000 * 16 * MiB + 1), 16 * MiB)
  t.is(pieceLengthFor(32 * GiB), 16 * MiB)
  t.is(Math.ceil(32 * GiB / pieceLengthFor(32 * GiB)), 2048)
  t.is(pieceLengthFor(2 ** 50), 16 * MiB)
})

test('isValidPieceLength accepts exactly the powers of two from 16 KiB to 16 MiB', (t) => {
  for (let exponent = 0; exponent <= 30; exponent++) {
    t.is(isValidPieceLength(2 ** exponent), exponent >= 14 && exponent <= 24, `2^${exponent}`)
  }
  for (const bad of [0, -16384, 3000, 3 * 16 * KiB, 16 * KiB + 1, 16 * KiB - 1, 16384.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) {
    t.false(isValidPieceLength(bad), String(bad))
  }
})
