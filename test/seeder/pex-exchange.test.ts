import test from 'ava'
import bencode from 'bencode'
import { PEX_INTERVAL_MS } from '../../appliance/seeder/pex-feed.js'
import { PexExchange, type PexMember } from '../../appliance/seeder/pex-exchange.js'
import { PEX_FLAG, type PexPeer } from '../../appliance/seeder/pex-message.js'

/** A peer as the exchange sees it, keeping what it was sent: the compact `added` entries, decoded. */
class Member implements PexMember {
  readonly received: Array<{ added: string[], flags: number[], dropped: string[] }> = []
  constructor (readonly pexPeer: PexPeer | undefined, readonly takesPex = true) {}

  sendPex (payload: Uint8Array): void {
    const message = bencode.decode(payload) as Record<string, Uint8Array>
    this.received.push({ added: entries(message.added!), flags: [...message['added.f']!], dropped: entries(message.dropped!) })
  }
}

function entries (compact: Uint8Array): string[] {
  const bytes = Buffer.from(compact)
  const out: string[] = []
  for (let at = 0; at < bytes.length; at += 6) out.push(`${[...bytes.subarray(at, at + 4)].join('.')}:${bytes.readUInt16BE(at + 4)}`)
  return out
}

const at = (ip: string, port = 6881, flags = 0): PexPeer => ({ address: { ip, port }, flags })

test('each member that takes PEX hears of the others of its swarm, never of itself', (t) => {
  const exchange = new PexExchange<Member>()
  const [a, b, c] = [new Member(at('10.0.0.1')), new Member(at('10.0.0.2', 51413, PEX_FLAG.reachable)), new Member(at('10.0.0.3'))]
  exchange.exchange([a, b, c], 0)
  t.deepEqual(a.received, [{ added: ['10.0.0.2:51413', '10.0.0.3:6881'], flags: [PEX_FLAG.reachable, 0], dropped: [] }])
  t.deepEqual(b.received.map((m) => m.added), [['10.0.0.1:6881', '10.0.0.3:6881']])
  t.deepEqual(c.received.map((m) => m.added), [['10.0.0.1:6881', '10.0.0.2:51413']])
  t.is(exchange.messagesSent, 3)
  t.is(exchange.peersAdvertised, 6)
})

test('a member without a listen port is told but never advertised; one that takes no PEX is advertised but told nothing', (t) => {
  const exchange = new PexExchange<Member>()
  const unreachable = new Member(undefined)
  const deaf = new Member(at('10.0.0.2'), false)
  const plain = new Member(at('10.0.0.3'))
  exchange.exchange([unreachable, deaf, plain], 0)
  t.deepEqual(unreachable.received.map((m) => m.added), [['10.0.0.2:6881', '10.0.0.3:6881']])
  t.deepEqual(deaf.received, [])
  t.deepEqual(plain.received.map((m) => m.added), [['10.0.0.2:6881']])
})

test('swarms are apart: a member hears of its own swarm only', (t) => {
  const exchange = new PexExchange<Member>()
  const [a1, a2, b1, b2] = ['10.0.0.1', '10.0.0.2', '10.0.1.1', '10.0.1.2'].map((ip) => new Member(at(ip)))
  exchange.exchange([a1!, a2!], 0)
  exchange.exchange([b1!, b2!], 0)
  t.deepEqual(a1!.received.map((m) => m.added), [['10.0.0.2:6881']])
  t.deepEqual(b1!.received.map((m) => m.added), [['10.0.1.2:6881']])
})

test('news and departures reach the others a minute after their last message (injected clock); a newcomer hears at once', (t) => {
  const exchange = new PexExchange<Member>()
  const [a, b, c] = ['10.0.0.1', '10.0.0.2', '10.0.0.3'].map((ip) => new Member(at(ip))) as [Member, Member, Member]
  exchange.exchange([a, b], 0)
  exchange.exchange([a, b, c], 10_000)
  t.deepEqual(c.received.map((m) => m.added), [['10.0.0.1:6881', '10.0.0.2:6881']], 'the newcomer hears at once')
  t.is(a.received.length, 1, 'a waits for its minute')
  exchange.forget(b)
  exchange.exchange([a, c], PEX_INTERVAL_MS - 1)
  t.is(a.received.length, 1)
  exchange.exchange([a, c], PEX_INTERVAL_MS)
  t.deepEqual(a.received[1], { added: ['10.0.0.3:6881'], flags: [0], dropped: ['10.0.0.2:6881'] })
})
