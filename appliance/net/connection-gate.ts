import { isIPv6, type Server, type Socket } from 'node:net'

export interface ConnectionLimits {
  /** Connections at most, from everyone together. */
  readonly total: number
  /** Connections at most from one address (one IPv6 /64: what one household or host is given). */
  readonly perAddress: number
}

export type GateRefusal = 'connection-limit' | 'address-limit'

/**
 * Counts open connections in all and per address, so that one host cannot take every connection a
 * listener has to give (nor every file descriptor the process has). Pure bookkeeping: `admit` before
 * keeping a socket, `release` exactly once when it closes.
 */
export class ConnectionGate {
  private readonly byAddress = new Map<string, number>()
  private open = 0

  constructor (private limits: ConnectionLimits) {}

  get size (): number {
    return this.open
  }

  /** New limits apply to connections admitted from now on; none is closed. */
  setLimits (limits: ConnectionLimits): void {
    this.limits = limits
  }

  /** Counts the connection in and returns undefined, or says why it must be closed (and counts nothing). */
  admit (address: string): GateRefusal | undefined {
    if (this.open >= this.limits.total) return 'connection-limit'
    const key = addressKey(address)
    const count = this.byAddress.get(key) ?? 0
    if (count >= this.limits.perAddress) return 'address-limit'
    this.byAddress.set(key, count + 1)
    this.open++
    return undefined
  }

  release (address: string): void {
    const key = addressKey(address)
    const count = this.byAddress.get(key)
    if (count === undefined) return
    if (count <= 1) this.byAddress.delete(key)
    else this.byAddress.set(key, count - 1)
    this.open--
  }

  /**
   * Gates every connection `server` accepts: one over a limit is destroyed before anything is read
   * from it, and `onRefused` hears about it.
   */
  guard (server: Server, onRefused?: (address: string, reason: GateRefusal) => void): void {
    server.on('connection', (socket: Socket) => {
      const address = socket.remoteAddress ?? ''
      const refusal = this.admit(address)
      if (refusal !== undefined) {
        socket.destroy()
        onRefused?.(address, refusal)
        return
      }
      socket.once('close', () => { this.release(address) })
    })
  }
}

/**
 * The unit connections are counted by: an IPv4 address (IPv4-mapped IPv6 included), or the /64 of an
 * IPv6 address, since one host is routinely given a whole /64 and could otherwise take 2^64 slots.
 */
export function addressKey (address: string): string {
  const unzoned = address.replace(/%.*$/, '')
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(unzoned)
  if (mapped !== null) return mapped[1]!
  if (!isIPv6(unzoned)) return unzoned
  return `${expandIPv6(unzoned).slice(0, 4).join(':')}::/64`
}

/** The eight 16-bit groups of an IPv6 address, as lower-case hex without leading zeros. */
function expandIPv6 (address: string): string[] {
  const [head = '', tail] = address.toLowerCase().split('::') as [string, string | undefined]
  const groups = (part: string): string[] => part === '' ? [] : part.split(':').flatMap((group) => group.includes('.') ? ipv4Groups(group) : [group])
  const front = groups(head)
  const back = tail === undefined ? [] : groups(tail)
  const zeros = Array.from({ length: 8 - front.length - back.length }, () => '0')
  return [...front, ...zeros, ...back].map((group) => Number.parseInt(group, 16).toString(16))
}

/** The last 32 bits of an address like `64:ff9b::1.2.3.4`, as two groups. */
function ipv4Groups (dotted: string): string[] {
  const [a = 0, b = 0, c = 0, d = 0] = dotted.split('.').map(Number)
  return [((a << 8) | b).toString(16), ((c << 8) | d).toString(16)]
}
