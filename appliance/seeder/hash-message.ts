import type { HashRequest } from './hash-request.js'

/** BEP 52 message ids. */
export const HASH_REQUEST_ID = 21
export const HASHES_ID = 22
export const HASH_REJECT_ID = 23

/** A hash request's message: its id, the 32-byte pieces root and four 32-bit numbers. */
export const HASH_REQUEST_BYTES = 1 + 32 + 4 * 4

/** A `hash request` message (its id first, no length prefix); undefined when it is not one of 49 bytes. */
export function parseHashRequest (message: Uint8Array): HashRequest | undefined {
  if (message.length !== HASH_REQUEST_BYTES || message[0] !== HASH_REQUEST_ID) return undefined
  const bytes = Buffer.from(message.buffer, message.byteOffset, message.length)
  return {
    root: Buffer.from(bytes.subarray(1, 33)),
    base: bytes.readUInt32BE(33),
    index: bytes.readUInt32BE(37),
    length: bytes.readUInt32BE(41),
    proofLayers: bytes.readUInt32BE(45)
  }
}

/** A `hashes` message (length prefix included): the request's fields, then `hashes` (see `answerHashes`). */
export function encodeHashes (request: HashRequest, hashes: Uint8Array): Buffer {
  const frame = header(HASHES_ID, request, hashes.length)
  frame.set(hashes, 4 + HASH_REQUEST_BYTES)
  return frame
}

/** A `hash reject` message (length prefix included): the request's fields, echoed. */
export function encodeHashReject (request: HashRequest): Buffer {
  return header(HASH_REJECT_ID, request, 0)
}

function header (id: number, request: HashRequest, extra: number): Buffer {
  const frame = Buffer.allocUnsafe(4 + HASH_REQUEST_BYTES + extra)
  frame.writeUInt32BE(HASH_REQUEST_BYTES + extra, 0)
  frame[4] = id
  request.root.copy(frame, 5)
  frame.writeUInt32BE(request.base, 37)
  frame.writeUInt32BE(request.index, 41)
  frame.writeUInt32BE(request.length, 45)
  frame.writeUInt32BE(request.proofLayers, 49)
  return frame
}
