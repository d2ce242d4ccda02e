import fc from 'fast-check'

/**
 * fast-check's options for the property tests: a fixed seed, so every run (CI's too) checks the same
 * cases and a failure can be repeated, and few enough runs that the suite spends seconds on them.
 * A longer hunt, with other cases, over one file:
 *   FUZZ_RUNS=100000 FUZZ_SEED=$RANDOM npx ava dist/test/properties/metainfo.test.js
 * (FUZZ_RUNS replaces every property's own count; a failure prints its seed and path to replay it.)
 */
export function propertyOptions (runs: number): fc.Parameters<unknown> {
  return {
    seed: Number(process.env.FUZZ_SEED ?? 20_251_101),
    numRuns: Number(process.env.FUZZ_RUNS ?? runs)
  }
}

/** True when `run` returns or throws what `isRefusal` accepts; anything else is thrown on, as a counterexample. */
export function refusesOnlyWith (isRefusal: (error: unknown) => boolean, run: () => unknown): boolean {
  try {
    run()
  } catch (error) {
    if (!isRefusal(error)) throw error
  }
  return true
}

type Edit =
  | { readonly kind: 'set', readonly at: number, readonly byte: number }
  | { readonly kind: 'insert', readonly at: number, readonly byte: number }
  | { readonly kind: 'delete', readonly at: number, readonly count: number }
  | { readonly kind: 'flip', readonly at: number, readonly bit: number }

const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), byte: fc.nat(255) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), byte: fc.nat(255) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 16 }) }),
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat(7) })
)

/**
 * `valid` with one to eight bytes flipped, set, inserted or deleted: mutants of a valid input go far
 * deeper into a parser than random bytes, which fail at the first byte.
 */
export function mutated (valid: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Buffer> {
  return fc.tuple(valid, fc.array(edit, { minLength: 1, maxLength: 8 })).map(([bytes, edits]) => {
    let data = Buffer.from(bytes)
    for (const change of edits) {
      const at = data.length === 0 ? 0 : change.at % data.length
      if (change.kind === 'insert') data = Buffer.concat([data.subarray(0, at), Buffer.from([change.byte]), data.subarray(at)])
      else if (change.kind === 'delete') data = Buffer.concat([data.subarray(0, at), data.subarray(at + change.count)])
      else if (data.length > 0) {
        data = Buffer.from(data)
        data[at] = change.kind === 'set' ? change.byte : data[at]! ^ (1 << change.bit)
      }
    }
    return data
  })
}
