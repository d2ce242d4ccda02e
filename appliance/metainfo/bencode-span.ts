/**
 * Finds where bencoded values begin and end without decoding them: a strict BEP 3 syntax check
 * (done before decoding, because the bencode package loops forever on some malformed input — a
 * negative string length sends it backwards); the raw bytes of one value of a dictionary (the
 * info dictionary, whose exact bytes are the infohash); and adding an already encoded value.
 */

const [LIST, DICT, END, INT, COLON] = [0x6c, 0x64, 0x65, 0x69, 0x3a]

/**
 * One past the last byte of the bencoded value that starts at `start`, or -1 when it is not strict
 * BEP 3 bencoding: integers without leading zeros or `-0`, and dictionaries without a repeated key
 * (readers disagree on which of two values counts: libtorrent takes the first, the bencode package
 * the last). Iterative, so hostile nesting cannot overflow the stack.
 */
export function endOfValue (bytes: Uint8Array, start: number): number {
  const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  /** Per open container: -1 for a list, else how many keys and values of a dictionary were read. */
  const open: number[] = []
  /** Per open container: the keys of a dictionary so far (latin1, one character per byte). */
  const keys: Array<Set<string> | undefined> = []
  let position = start
  do {
    const byte = data[position]
    const items = open.at(-1)
    if (byte === END && items !== undefined) {
      if (items % 2 === 1) return -1
      open.pop()
      keys.pop()
      position += 1
    } else if (items !== undefined && items % 2 === 0 && (byte === LIST || byte === DICT || byte === INT)) {
      return -1
    } else if (byte === LIST || byte === DICT) {
      open.push(byte === DICT ? 0 : -1)
      keys.push(byte === DICT ? new Set() : undefined)
      position += 1
      continue
    } else if (byte === INT) {
      const end = data.indexOf(END, position)
      if (end < 0 || !/^(0|-?[1-9]\d*)$/.test(data.toString('latin1', position + 1, end))) return -1
      position = end + 1
    } else {
      const colon = data.indexOf(COLON, position)
      const digits = colon < 0 ? '' : data.toString('latin1', position, colon)
      if (!/^\d+$/.test(digits)) return -1
      position = colon + 1 + Number(digits)
      if (position > data.length) return -1
      const dictionaryKeys = keys.at(-1)
      if (dictionaryKeys !== undefined && items! % 2 === 0) {
        const key = data.toString('latin1', colon + 1, position)
        if (dictionaryKeys.has(key)) return -1
        dictionaryKeys.add(key)
      }
    }
    // A value just ended: count it in the dictionary holding it, if any.
    if (open.length > 0 && open.at(-1)! >= 0) open[open.length - 1]! += 1
  } while (open.length > 0 && position < data.length)
  return open.length === 0 ? position : -1
}

export interface DictionaryEntry {
  readonly key: Buffer
  /** Where the entry (its key) starts, and where its value starts and ends. */
  readonly start: number
  readonly valueStart: number
  readonly valueEnd: number
}

/**
 * The entries of the bencoded dictionary that `bytes` starts with, each value checked as `endOfValue`
 * checks it; undefined when `bytes` holds no well-formed dictionary (a repeated key included).
 */
export function dictionaryEntries (bytes: Uint8Array): DictionaryEntry[] | undefined {
  const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (data[0] !== DICT) return undefined
  const entries: DictionaryEntry[] = []
  const keys = new Set<string>()
  let position = 1
  while (position < data.length && data[position] !== END) {
    const isStringKey = data[position]! >= 0x30 && data[position]! <= 0x39
    const valueStart = isStringKey ? endOfValue(data, position) : -1
    const valueEnd = valueStart < 0 ? -1 : endOfValue(data, valueStart)
    if (valueEnd < 0) return undefined
    const key = data.subarray(data.indexOf(COLON, position) + 1, valueStart)
    if (keys.has(key.toString('latin1'))) return undefined
    keys.add(key.toString('latin1'))
    entries.push({ key, start: position, valueStart, valueEnd })
    position = valueEnd
  }
  return data[position] === END ? entries : undefined
}

/**
 * `dictionary` (encoded, without `key`) with `key` and the encoded `value` added where the key sorts
 * (BEP 3 dictionaries are sorted by their keys' raw bytes).
 */
export function withEntry (dictionary: Buffer, key: string, value: Uint8Array): Buffer {
  return Buffer.concat(withEntryParts(dictionary, key, value))
}

/** `withEntry` as the pieces to write one after the other, `value` among them uncopied. */
export function withEntryParts (dictionary: Buffer, key: string, value: Uint8Array): Uint8Array[] {
  const keyBytes = Buffer.from(key)
  const position = dictionaryEntries(dictionary)!.find((entry) => Buffer.compare(entry.key, keyBytes) > 0)?.start ?? dictionary.length - 1
  return [dictionary.subarray(0, position), Buffer.from(`${keyBytes.length}:`), keyBytes, value, dictionary.subarray(position)]
}
