declare module 'bencode' {
  /** Encodes a value; Uint8Array/Buffer become byte strings, objects dictionaries with sorted keys. */
  export function encode(value: unknown): Uint8Array
  /** Decodes; byte strings stay Uint8Array unless an encoding is given. */
  export function decode(data: Uint8Array, start?: number, end?: number, encoding?: string): any
  export function byteLength(value: unknown): number
  const bencode: { encode: typeof encode, decode: typeof decode, byteLength: typeof byteLength }
  export default bencode
}
