/** How to answer a GET given its `Range` header (RFC 9110 §14); `end` is inclusive. */
export type RangeAnswer =
  | { readonly kind: 'whole' }
  | { readonly kind: 'partial', readonly start: number, readonly end: number }
  | { readonly kind: 'unsatisfiable' }

/**
 * Reads `Range: bytes=a-b`, `bytes=a-` and `bytes=-n` against a representation of `size` bytes.
 * A header that is not a valid bytes range set is ignored (a 200 with everything), as RFC 9110
 * allows. Several ranges are coalesced into the one range that spans them, sent as a single part:
 * RFC 9110 lets a server coalesce, web seed clients ask for one range at a time, and it spares us
 * multipart/byteranges.
 */
export function answerRange (header: string | undefined, size: number): RangeAnswer {
  if (header === undefined) return { kind: 'whole' }
  const match = /^\s*bytes\s*=(.*)$/i.exec(header)
  if (match === null) return { kind: 'whole' }
  const specs = match[1]!.split(',').map((spec) => spec.trim()).filter((spec) => spec !== '')
  if (specs.length === 0) return { kind: 'whole' }
  const ranges: Array<{ start: number, end: number }> = []
  for (const spec of specs) {
    const suffix = /^-(\d+)$/.exec(spec)
    if (suffix !== null) {
      const length = Number(suffix[1])
      if (length > 0 && size > 0) ranges.push({ start: Math.max(0, size - length), end: size - 1 })
      continue
    }
    const range = /^(\d+)-(\d*)$/.exec(spec)
    if (range === null) return { kind: 'whole' }
    const start = Number(range[1])
    const end = range[2] === '' ? Infinity : Number(range[2])
    if (end < start) return { kind: 'whole' }
    if (start < size) ranges.push({ start, end: Math.min(end, size - 1) })
  }
  if (ranges.length === 0) return { kind: 'unsatisfiable' }
  return {
    kind: 'partial',
    start: ranges.reduce((min, range) => Math.min(min, range.start), Infinity),
    end: ranges.reduce((max, range) => Math.max(max, range.end), 0)
  }
}
