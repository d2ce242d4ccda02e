/**
 * What bench-serve asks of a seeder from the outside: a BEP 3 handshake on its peer port, and an
 * HTTP announce to a tracker. Everything connects to 127.0.0.1 only.
 */
import { randomBytes } from 'node:crypto'
import { connect } from 'node:net'
import { announceQuery, readAnnounce } from '../test/tracker/tracker-client.js'

const PROTOCOL = Buffer.from('\x13BitTorrent protocol', 'latin1')
const HANDSHAKE_BYTES = 68
/** BEP 3 message ids, and BEP 6's that announce a complete peer without a bitfield. */
const HAVE = 4
const BITFIELD = 5
const HAVE_ALL = 14
const HAVE_NONE = 15

export interface HandshakeResult {
  /** The peer answered with a handshake for this infohash. */
  readonly answered: boolean
  /** Pieces it says it has (bitfield, HaveAll or Have messages), within `waitMs` of its handshake. */
  readonly piecesAdvertised: number
}

/**
 * Connects, sends a handshake with no extension bits, and reads the answer and the messages after it
 * until a bitfield (or HaveAll/HaveNone) arrives or `waitMs` passes. Never throws: a refused or
 * dropped connection is `answered: false`.
 */
export async function handshakeProbe (port: number, infoHash: string, pieceCount: number, waitMs = 1000): Promise<HandshakeResult> {
  const socket = connect({ host: '127.0.0.1', port })
  const wanted = Buffer.from(infoHash, 'hex')
  let received = Buffer.alloc(0)
  let answered = false
  let haves = 0
  return await new Promise<HandshakeResult>((resolve) => {
    const finish = (pieces: number): void => {
      clearTimeout(timer)
      socket.destroy()
      resolve({ answered, piecesAdvertised: Math.min(pieces, pieceCount) })
    }
    const timer = setTimeout(() => finish(haves), waitMs + 2000)
    socket.once('connect', () => socket.write(Buffer.concat([PROTOCOL, Buffer.alloc(8), wanted, Buffer.from(`-BS0001-${randomBytes(6).toString('hex')}`, 'latin1')])))
    socket.on('error', () => finish(haves))
    socket.on('close', () => finish(haves))
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk])
      if (!answered) {
        if (received.length < HANDSHAKE_BYTES) return
        if (!received.subarray(0, 20).equals(PROTOCOL) || !received.subarray(28, 48).equals(wanted)) return finish(0)
        answered = true
        received = received.subarray(HANDSHAKE_BYTES)
        timer.refresh()
      }
      while (received.length >= 4) {
        const length = received.readUInt32BE(0)
        if (received.length < 4 + length) return
        const message = received.subarray(4, 4 + length)
        received = received.subarray(4 + length)
        if (length === 0) continue
        const id = message[0]
        if (id === BITFIELD) return finish(countBits(message.subarray(1)) + haves)
        if (id === HAVE_ALL) return finish(pieceCount)
        if (id === HAVE_NONE) return finish(haves)
        if (id === HAVE) haves++
      }
    })
  })
}

function countBits (bytes: Buffer): number {
  let count = 0
  for (const byte of bytes) {
    for (let value = byte; value !== 0; value &= value - 1) count++
  }
  return count
}

export interface AnnounceResult {
  readonly ok: boolean
  readonly failure?: string
  /** `ip:port` of every peer handed out, but the probe itself. */
  readonly peers: readonly string[]
}

/** One HTTP announce as a leecher that wants peers; never throws (an unreachable tracker is `ok: false`). */
export async function announceProbe (announceUrl: string, infoHash: string, event: 'started' | 'stopped' = 'started'): Promise<AnnounceResult> {
  const query = announceQuery({ infoHash: Buffer.from(infoHash, 'hex'), peerId: PROBE_PEER_ID, port: PROBE_PORT, left: 1, event, numwant: 50 })
  try {
    const response = await fetch(`${announceUrl}?${query}`, { signal: AbortSignal.timeout(2000) })
    const answer = readAnnounce(Buffer.from(await response.arrayBuffer()))
    if (answer.failure !== undefined) return { ok: false, failure: answer.failure, peers: [] }
    // bittorrent-tracker hands an HTTP client its own address too.
    return { ok: response.ok, peers: answer.peers.filter((peer) => !peer.endsWith(`:${PROBE_PORT}`)) }
  } catch (error) {
    return { ok: false, failure: error instanceof Error ? error.message : String(error), peers: [] }
  }
}

/** The port the probe announces (discard): nothing listens there, and it tells the probe apart in peer lists. */
const PROBE_PORT = 9
const PROBE_PEER_ID = Buffer.from(`-BS0001-${randomBytes(6).toString('hex')}`, 'latin1')

