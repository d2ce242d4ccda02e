/**
 * BEP 3: "All current implementations use 2^14 (16 kiB), and close connections which request an
 * amount greater than that." libtorrent, Transmission, qBittorrent and webtorrent all request 16 KiB
 * blocks, so a larger request is treated as a violation rather than served: it keeps every read,
 * cache entry and rate-limit quantum one block small.
 */
export const MAX_BLOCK_LENGTH = 16 * 1024

/** The shape of a torrent's content as far as requests are concerned. */
export interface PieceGeometry {
  readonly pieceLength: number
  readonly pieceCount: number
  readonly totalBytes: number
}

export type RequestProblem = 'no-such-piece' | 'beyond-piece-end' | 'bad-length'

/** The byte length of piece `index`; the last piece holds what is left. */
export function pieceSize (geometry: PieceGeometry, index: number): number {
  return index === geometry.pieceCount - 1 ? geometry.totalBytes - index * geometry.pieceLength : geometry.pieceLength
}

/** Why a request (BEP 3 message 6) cannot be served from this torrent, or undefined when it can. */
export function checkRequest (geometry: PieceGeometry, index: number, offset: number, length: number): RequestProblem | undefined {
  if (!Number.isInteger(index) || index < 0 || index >= geometry.pieceCount) return 'no-such-piece'
  if (!Number.isInteger(length) || length <= 0 || length > MAX_BLOCK_LENGTH) return 'bad-length'
  if (!Number.isInteger(offset) || offset < 0 || offset + length > pieceSize(geometry, index)) return 'beyond-piece-end'
  return undefined
}
