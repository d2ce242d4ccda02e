import { createHash, type Hash } from 'node:crypto'
import { parentPort, workerData } from 'node:worker_threads'
import { CHUNK_BYTES, type ChunkMessage, type DigestsMessage, type HasherData } from './hash-protocol.js'

const port = parentPort!
const { slots } = workerData as HasherData
/** The piece this thread is in the middle of, when pieces are longer than a chunk. */
let open: Hash | undefined

port.on('message', ({ slot, length, start, pieceLength, totalBytes }: ChunkMessage) => {
  const bytes = new Uint8Array(slots, slot * CHUNK_BYTES, length)
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
  const reply: DigestsMessage = { slot, length, firstPiece, digests: Buffer.concat(digests) }
  port.postMessage(reply)
})
