import assert from 'node:assert/strict'
import test from 'ava'
import fc from 'fast-check'
import { answerRange } from '../../appliance/web/byte-range.js'
import { propertyOptions } from './properties.js'

const size = fc.oneof(fc.integer({ min: 0, max: 1000 }), fc.maxSafeNat())
const offset = fc.oneof(fc.integer({ min: 0, max: 2000 }), fc.maxSafeNat())

/** One range-spec as a client writes it, with the bytes it asks for in a representation of `size` bytes (or none). */
const spec = fc.oneof(
  fc.tuple(offset, offset).map(([a, b]) => ({ text: `${Math.min(a, b)}-${Math.max(a, b)}`, wants: (n: number) => Math.min(a, b) < n ? [Math.min(a, b), Math.min(Math.max(a, b), n - 1)] : undefined })),
  offset.map((a) => ({ text: `${a}-`, wants: (n: number) => a < n ? [a, n - 1] : undefined })),
  offset.map((length) => ({ text: `-${length}`, wants: (n: number) => length > 0 && n > 0 ? [Math.max(0, n - length), n - 1] : undefined }))
)
const spaces = fc.constantFrom('', ' ', '  ', '\t')

test('a valid Range header gets the one range spanning every satisfiable spec, or 416 when none is', (t) => {
  fc.assert(fc.property(size, fc.array(fc.tuple(spaces, spec, spaces), { minLength: 1, maxLength: 5 }), fc.constantFrom('bytes', 'BYTES', 'Bytes'), (n, specs, unit) => {
    const header = `${unit}=${specs.map(([before, { text }, after]) => `${before}${text}${after}`).join(',')}`
    const wanted = specs.map(([, { wants }]) => wants(n)).filter((range) => range !== undefined)
    assert.deepEqual(answerRange(header, n), wanted.length === 0
      ? { kind: 'unsatisfiable' }
      : { kind: 'partial', start: Math.min(...wanted.map(([start]) => start!)), end: Math.max(...wanted.map(([, end]) => end!)) })
  }), propertyOptions(500))
  t.pass()
})

test('whatever the header, the answer is whole, unsatisfiable or a range inside the representation', (t) => {
  const headers = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 60 }),
    fc.string({ unit: fc.constantFrom('0', '1', '9', '-', ',', ' ', '=', 'bytes', 'e', '+', '.', '99999999999999999999'), maxLength: 20 })
  )
  fc.assert(fc.property(headers, size, (header, n) => {
    const answer = answerRange(header, n)
    if (answer.kind === 'partial') assert.ok(Number.isSafeInteger(answer.start) && Number.isSafeInteger(answer.end) && answer.start >= 0 && answer.start <= answer.end && answer.end < n, JSON.stringify(answer))
  }), propertyOptions(1000))
  t.pass()
})
