import bencode from 'bencode'
import type { Socket } from 'node:net'
import { MESSAGE, RawPeer } from './peers.js'

/** The id our raw peers give `ut_pex` in their BEP 10 handshake. */
export const RAW_PEX_ID = 1

/** A BEP 10 extended message (`id` 0: the extended handshake) as bytes on the wire. */
export function extendedMessage (id: number, payload: Uint8Array | Record<string, unknown>): Buffer {
  const body = Buffer.from(ArrayBuffer.isView(payload) ? payload : bencode.encode(payload))
  const message = Buffer.alloc(6 + body.length)
  message.writeUInt32BE(2 + body.length, 0)
  message[4] = MESSAGE.extended
  message[5] = id
  body.copy(message, 6)
  return message
}

/**
 * Connects from `localAddress`, sends the BEP 3 handshake with the extension bit and an extended
 * handshake that takes ut_pex, with `p` = `listenPort` when given (and `e` = 1 with `prefersEncryption`).
 */
export async function pexPeer (port: number, infoHash: string, options: { localAddress: string, listenPort?: number, prefersEncryption?: boolean, seederHost?: string }): Promise<RawPeer> {
  const peer = await RawPeer.connect(port, options.localAddress, options.seederHost)
  peer.sendHandshake(infoHash, { extended: true })
  peer.write(extendedMessage(0, {
    m: { ut_pex: RAW_PEX_ID },
    ...(options.listenPort !== undefined && { p: options.listenPort }),
    ...(options.prefersEncryption === true && { e: 1 })
  }))
  return peer
}

/** A PEX message as a test reads it: addresses as `ip:port`. */
export interface ReadPex {
  readonly added: string[]
  readonly flags: number[]
  readonly dropped: string[]
  readonly added6: string[]
  readonly dropped6: string[]
}

/** The ut_pex messages `peer` received so far. */
export function pexMessages (peer: RawPeer): ReadPex[] {
  return peer.messages.filter((message) => message.id === MESSAGE.extended && message.payload[0] === RAW_PEX_ID).map((message) => {
    const dictionary = bencode.decode(message.payload.subarray(1)) as Record<string, Uint8Array>
    return {
      added: compact(dictionary.added, 4),
      flags: [...dictionary['added.f'] ?? []],
      dropped: compact(dictionary.dropped, 4),
      added6: compact(dictionary.added6, 16),
      dropped6: compact(dictionary.dropped6, 16)
    }
  })
}

/** The `m` map of the seeder's extended handshake to `peer`, once it came. */
export function seederExtensions (peer: RawPeer): Record<string, number> | undefined {
  const handshake = peer.messages.find((message) => message.id === MESSAGE.extended && message.payload[0] === 0)
  if (handshake === undefined) return undefined
  return (bencode.decode(handshake.payload.subarray(1)) as { m: Record<string, number> }).m
}

function compact (bytes: Uint8Array | undefined, addressBytes: 4 | 16): string[] {
  const buffer = Buffer.from(bytes ?? [])
  const size = addressBytes + 2
  const out: string[] = []
  for (let at = 0; at + size <= buffer.length; at += size) {
    const port = buffer.readUInt16BE(at + addressBytes)
    if (addressBytes === 4) {
      out.push(`${[...buffer.subarray(at, at + 4)].join('.')}:${port}`)
    } else {
      const groups = Array.from({ length: 8 }, (_, index) => buffer.readUInt16BE(at + index * 2).toString(16))
      out.push(`[${groups.join(':')}]:${port}`)
    }
  }
  return out
}

/** For a peer the seeder dials: answers its handshake like `pexPeer`, without a listen port. */
export function answerAsPexPeer (socket: Socket, infoHash: string, peerId: Buffer, onAnswered: () => void = () => {}): void {
  socket.once('data', (first: Buffer) => {
    // A plaintext-only peer: an MSE handshake is hung up on, and the seeder dials again in plaintext.
    if (first[0] !== 19) {
      socket.destroy()
      return
    }
    const reserved = Buffer.alloc(8)
    reserved[5] = 0x10
    socket.write(Buffer.concat([Buffer.from('\x13BitTorrent protocol', 'latin1'), reserved, Buffer.from(infoHash, 'hex'), peerId]))
    socket.write(extendedMessage(0, { m: { ut_pex: RAW_PEX_ID } }))
    onAnswered()
  })
}
