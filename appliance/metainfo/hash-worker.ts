import { createHash, type Hash } from 'node:crypto'
import { parentPort } from 'node:worker_threads'
import type { ChunkMessage, DigestsMessage } from './hash-protocol.js'

const port = parentPort!
/** The piece this thread is in the middle of, when pieces are longer than a chunk. */
let open: Hash | undefined

port.on('message', ({ buffer, length, start, pieceLength, totalBytes }: ChunkMessage) => {
  const bytes = new Uint8Array(buffer, 0, length)
  let piece = Math.floor(start / pieceLength)
  let offsetInPiece = start % pieceLength
  const digests: Buffer[] = []
  let firstPiece = -1
  let position = 0
  while (position < length) {
    const size = Math.min(pieceLength, totalBytes - piece * pieceLength)
    const take = Math.min(length - position, size - offsetInPiece)
    if (offsetInPiece === 0) open = createHash('sha1')
    open!.update(bytes.subarray(position, position + take))
    if (offsetInPiece + take === size) {
      if (firstPiece < 0) firstPiece = piece
      digests.push(open!.digest())
      open = undefined
      piece += 1
      offsetInPiece = 0
    } else {
      offsetInPiece += take
    }
    position += take
  }
  const reply: DigestsMessage = { buffer, length, firstPiece, digests: Buffer.concat(digests) }
  port.postMessage(reply, [buffer])
})
