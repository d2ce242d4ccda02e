/** BEP 3 bitfield of a seed: every piece set, the spare bits at the end cleared. */
export function seedBitfield (pieceCount: number): Buffer {
  const bitfield = Buffer.alloc(Math.ceil(pieceCount / 8), 0xff)
  const spare = bitfield.length * 8 - pieceCount
  if (spare > 0) bitfield[bitfield.length - 1] = (0xff << spare) & 0xff
  return bitfield
}

/** Whether a peer's bitfield says it has every piece, i.e. it is a seed too. */
export function isSeedBitfield (bitfield: Uint8Array, pieceCount: number): boolean {
  if (bitfield.length < Math.ceil(pieceCount / 8)) return false
  const whole = Math.floor(pieceCount / 8)
  for (let i = 0; i < whole; i++) {
    if (bitfield[i] !== 0xff) return false
  }
  const rest = pieceCount % 8
  if (rest === 0) return true
  const mask = (0xff << (8 - rest)) & 0xff
  return (bitfield[whole]! & mask) === mask
}
