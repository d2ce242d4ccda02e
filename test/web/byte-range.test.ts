import test from 'ava'
import { answerRange } from '../../appliance/web/byte-range.js'

test('single ranges: a-b, a-, -n, clamped to the size', (t) => {
  t.deepEqual(answerRange('bytes=0-99', 1000), { kind: 'partial', start: 0, end: 99 })
  t.deepEqual(answerRange('bytes=900-', 1000), { kind: 'partial', start: 900, end: 999 })
  t.deepEqual(answerRange('bytes=-100', 1000), { kind: 'partial', start: 900, end: 999 })
  t.deepEqual(answerRange('bytes=-5000', 1000), { kind: 'partial', start: 0, end: 999 })
  t.deepEqual(answerRange('bytes=990-5000', 1000), { kind: 'partial', start: 990, end: 999 })
  t.deepEqual(answerRange('bytes=999-999', 1000), { kind: 'partial', start: 999, end: 999 })
  t.deepEqual(answerRange('BYTES = 1-2', 1000), { kind: 'partial', start: 1, end: 2 })
})

test('no header, another unit or a malformed one: the whole representation', (t) => {
  for (const header of [undefined, 'items=0-1', 'bytes=', 'bytes=a-b', 'bytes=5-1', 'bytes=1-2,x', 'bytes=--1', 'bytes=1-2-3', '0-1']) {
    t.deepEqual(answerRange(header, 1000), { kind: 'whole' }, String(header))
  }
})

test('ranges that start past the end, and empty suffixes, are unsatisfiable', (t) => {
  t.deepEqual(answerRange('bytes=1000-', 1000), { kind: 'unsatisfiable' })
  t.deepEqual(answerRange('bytes=5000-6000', 1000), { kind: 'unsatisfiable' })
  t.deepEqual(answerRange('bytes=-0', 1000), { kind: 'unsatisfiable' })
  t.deepEqual(answerRange('bytes=0-', 0), { kind: 'unsatisfiable' })
  t.deepEqual(answerRange('bytes=-1', 0), { kind: 'unsatisfiable' })
  t.deepEqual(answerRange('bytes=99999999999999999999-', 1000), { kind: 'unsatisfiable' })
})

test('several ranges are coalesced into the one range spanning the satisfiable ones', (t) => {
  t.deepEqual(answerRange('bytes=0-0, 500-599', 1000), { kind: 'partial', start: 0, end: 599 })
  t.deepEqual(answerRange('bytes=500-599,-1', 1000), { kind: 'partial', start: 500, end: 999 })
  t.deepEqual(answerRange('bytes=100-199,5000-', 1000), { kind: 'partial', start: 100, end: 199 })
})
