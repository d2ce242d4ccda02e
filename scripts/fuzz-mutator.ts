/**
 * The mutations of the fuzzer (scripts/fuzz.ts), after libFuzzer's: bit and byte changes, inserted,
 * deleted and copied runs, the format's own tokens, numbers of the sizes that break length checks,
 * and splices of two corpus entries. Seeded, so a run can be repeated.
 */

/** A small fast PRNG (mulberry32): the fuzzer's only source of randomness. */
export class Random {
  private state: number

  constructor (seed: number) {
    this.state = seed >>> 0
  }

  /** An integer from 0 to `bound` - 1. */
  below (bound: number): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0
    let t = this.state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * bound)
  }

  pick<T> (items: readonly T[]): T {
    return items[this.below(items.length)]!
  }
}

/** Numbers written as text where a format has decimal fields (bencode lengths, query values, ranges, TOML). */
const TEXT_NUMBERS = [
  '0', '1', '-1', '-0', '00', '01', '19', '20', '21', '255', '256', '16384', '65535', '65536', '2147483647', '2147483648',
  '4294967295', '4294967296', '9007199254740991', '9007199254740992', '9007199254740993', '18446744073709551616',
  '99999999999999999999', '1e3', '0x10'
]
/** Values written as big-endian integers where a format has binary fields (UDP packets, peer-wire lengths). */
const BINARY_NUMBERS = [0n, 1n, 2n, 3n, 0x7fn, 0x80n, 0xffn, 0x7fffn, 0x8000n, 0xffffn, 0x10000n, 0x7fffffffn, 0x80000000n, 0xffffffffn, 0x41727101980n]
const INTERESTING_BYTES = [0x00, 0x01, 0x7f, 0x80, 0xff, 0x0a, 0x0d, 0x20, 0x2f, 0x2e, 0x25, 0x30, 0x39, 0x2d, 0x3a]

export class Mutator {
  constructor (private readonly random: Random, private readonly tokens: readonly string[], private readonly maxLength: number) {}

  /** A mutant of `input`: 1 to 8 stacked mutations; `other` gives a second corpus entry for splicing. */
  mutate (input: Buffer, other: () => Buffer): Buffer {
    let data = input
    const rounds = 1 << this.random.below(4)
    for (let round = 0; round < rounds; round++) data = this.once(data, other)
    return data.length > this.maxLength ? data.subarray(0, this.maxLength) : data
  }

  private once (data: Buffer, other: () => Buffer): Buffer {
    const r = this.random
    const at = r.below(data.length + 1)
    switch (r.below(12)) {
      case 0: return this.changed(data, (copy, index) => { copy[index] ^= 1 << r.below(8) })
      case 1: return this.changed(data, (copy, index) => { copy[index] = r.below(256) })
      case 2: return this.changed(data, (copy, index) => { copy[index] = r.pick(INTERESTING_BYTES) })
      case 3: return splice(data, at, at, Buffer.from(Array.from({ length: 1 + r.below(4) }, () => r.below(256))))
      case 4: return splice(data, at, Math.min(data.length, at + 1 + r.below(16)), Buffer.alloc(0))
      case 5: return splice(data, at, at, this.chunkOf(data))
      case 6: {
        const chunk = this.chunkOf(data)
        return splice(data, at, Math.min(data.length, at + chunk.length), chunk)
      }
      case 7: return this.tokens.length === 0 ? data : splice(data, at, at, Buffer.from(r.pick(this.tokens), 'latin1'))
      case 8: {
        if (this.tokens.length === 0) return data
        const token = Buffer.from(r.pick(this.tokens), 'latin1')
        return splice(data, at, Math.min(data.length, at + token.length), token)
      }
      case 9: return this.textNumber(data, at)
      case 10: return this.binaryNumber(data, at)
      default: {
        const second = other()
        return Buffer.concat([data.subarray(0, at), second.subarray(r.below(second.length + 1))])
      }
    }
  }

  private changed (data: Buffer, change: (copy: Buffer, index: number) => void): Buffer {
    if (data.length === 0) return Buffer.from([this.random.below(256)])
    const copy = Buffer.from(data)
    change(copy, this.random.below(copy.length))
    return copy
  }

  private chunkOf (data: Buffer): Buffer {
    const start = this.random.below(data.length + 1)
    return data.subarray(start, start + 1 + this.random.below(64))
  }

  /** Replaces the run of digits at or after `at` (or inserts at `at`) with a number that tests a bound. */
  private textNumber (data: Buffer, at: number): Buffer {
    let start = at
    while (start < data.length && !isDigit(data[start]!)) start++
    if (start === data.length) start = at
    let end = start
    while (end < data.length && isDigit(data[end]!)) end++
    return splice(data, start, end, Buffer.from(this.random.pick(TEXT_NUMBERS), 'latin1'))
  }

  private binaryNumber (data: Buffer, at: number): Buffer {
    const width = this.random.pick([1, 2, 4, 8])
    const value = BigInt.asUintN(width * 8, this.random.pick(BINARY_NUMBERS) + BigInt(this.random.below(3)) - 1n)
    const bytes = Buffer.from(value.toString(16).padStart(width * 2, '0'), 'hex')
    return splice(data, at, Math.min(data.length, at + width), bytes)
  }
}

function splice (data: Buffer, start: number, end: number, insert: Buffer): Buffer {
  return Buffer.concat([data.subarray(0, start), insert, data.subarray(end)])
}

function isDigit (byte: number): boolean {
  return byte >= 0x30 && byte <= 0x39
}
