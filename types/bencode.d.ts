// Declarations for bencode 4, which ships none; its README is the whole of what we use.
declare module 'bencode' {
  const bencode: {
    /** Encodes a value; Uint8Array/Buffer become byte strings, objects dictionaries with sorted keys (BEP 3). */
    encode: (value: unknown) => Uint8Array
    /** Decodes; byte strings stay Uint8Array unless an encoding is given. */
    decode: (data: Uint8Array, start?: number, end?: number, encoding?: string) => any
    byteLength: (value: unknown) => number
  }
  export default bencode
}
