export const MIN_PIECE_LENGTH = 16 * 1024
export const MAX_PIECE_LENGTH = 16 * 1024 * 1024
/** The automatic rule picks the smallest power of two that keeps the piece count at or below this. */
export const TARGET_MAX_PIECES = 2000

/**
 * The automatic piece length: the smallest power of two between 16 KiB and 16 MiB that gives at
 * most 2,000 pieces. From 32 MiB to 31.25 GiB (2,000 × 16 MiB) of content that lands on 1,000–2,000
 * pieces; smaller content gets 16 KiB pieces (fewer), larger content 16 MiB pieces (more).
 */
export function pieceLengthFor (totalBytes: number): number {
  let length = MIN_PIECE_LENGTH
  while (length < MAX_PIECE_LENGTH && Math.ceil(totalBytes / length) > TARGET_MAX_PIECES) length *= 2
  return length
}

/** A piece length given by a person must be a power of two in the range clients accept. */
export function isValidPieceLength (length: number): boolean {
  return Number.isSafeInteger(length) &&
    length >= MIN_PIECE_LENGTH && length <= MAX_PIECE_LENGTH &&
    (length & (length - 1)) === 0
}
