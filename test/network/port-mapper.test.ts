import test from 'ava'
import type { Gateway, GrantedMapping, MappedPort } from '../../appliance/network/gateway.js'
import type { MappingRequest } from '../../appliance/network/nat-pmp-message.js'
import { PortMapper, RETRY_FIRST_MS, RETRY_MAX_MS, type MapperClock, type PortMapperSnapshot, type PortToMap } from '../../appliance/network/port-mapper.js'

/** A clock whose time moves only when the test says; timers run in order as it passes them. */
class FakeClock implements MapperClock {
  time = 1_000_000
  private timers: Array<{ at: number, run: () => void }> = []

  now = (): number => this.time
  setTimeout = (run: () => void, ms: number): unknown => {
    const timer = { at: this.time + ms, run }
    this.timers.push(timer)
    return timer
  }

  clearTimeout = (timer: unknown): void => { this.timers = this.timers.filter((entry) => entry !== timer) }

  /** The delay of the one pending timer. */
  get pendingMs (): number | undefined {
    return this.timers.length === 0 ? undefined : this.timers[0]!.at - this.time
  }

  async advance (ms: number): Promise<void> {
    const until = this.time + ms
    for (;;) {
      const next = this.timers.sort((a, b) => a.at - b.at)[0]
      if (next === undefined || next.at > until) break
      this.timers.shift()
      this.time = next.at
      next.run()
      await settle()
    }
    this.time = until
  }
}

async function settle (): Promise<void> {
  for (let turn = 0; turn < 20; turn++) await Promise.resolve()
}

/** A router held to the Gateway contract, which records what it is asked and can be told to refuse. */
class FakeGateway implements Gateway {
  readonly method = 'nat-pmp'
  readonly address = '192.168.1.1'
  external = '198.51.100.7'
  lifetimeSeconds: number | undefined
  refuse: Set<number> = new Set()
  down = false
  readonly maps: MappingRequest[] = []
  readonly unmaps: MappedPort[] = []

  async externalAddress (): Promise<string> {
    if (this.down) throw new Error('no answer')
    return this.external
  }

  async map (request: MappingRequest): Promise<GrantedMapping> {
    if (this.down) throw new Error('no answer')
    this.maps.push(request)
    if (this.refuse.has(request.internalPort)) throw new Error(`port ${request.internalPort} is taken`)
    return { externalPort: request.externalPort, lifetimeSeconds: this.lifetimeSeconds ?? request.lifetimeSeconds }
  }

  async unmap (mapping: MappedPort): Promise<void> {
    this.unmaps.push(mapping)
  }
}

const PORTS: PortToMap[] = [
  { purpose: 'peer', protocol: 'tcp', port: 6881 },
  { purpose: 'tracker', protocol: 'tcp', port: 6969 },
  { purpose: 'tracker', protocol: 'udp', port: 6969 }
]

function mapperWith (gateway: FakeGateway | undefined, clock: FakeClock, leaseSeconds = 3600): { mapper: PortMapper, changes: PortMapperSnapshot[], addresses: string[], searches: () => number } {
  let searches = 0
  const mapper = new PortMapper({ ports: PORTS, leaseSeconds, clock, findGateway: async () => { searches++; return gateway } })
  const changes: PortMapperSnapshot[] = []
  const addresses: string[] = []
  mapper.on('change', (snapshot) => changes.push(snapshot))
  mapper.on('externalAddress', (address) => addresses.push(address))
  return { mapper, changes, addresses, searches: () => searches }
}

test('maps every port, learns the external address, renews at half the granted lease and removes the mappings on close', async (t) => {
  const clock = new FakeClock()
  const gateway = new FakeGateway()
  gateway.lifetimeSeconds = 600
  const { mapper, addresses } = mapperWith(gateway, clock)
  mapper.start()
  await settle()
  const snapshot = mapper.snapshot()
  t.is(snapshot.state, 'mapped')
  t.is(snapshot.externalAddress, '198.51.100.7')
  t.deepEqual(snapshot.mappings.map((mapping) => `${mapping.purpose} ${mapping.protocol} ${mapping.internalPort}->${mapping.externalPort} ${mapping.expiresAt! - clock.time}`),
    ['peer tcp 6881->6881 600000', 'tracker tcp 6969->6969 600000', 'tracker udp 6969->6969 600000'])
  t.deepEqual(addresses, ['198.51.100.7'])
  t.is(clock.pendingMs, 300_000, 'renewed at half the 600 s the router granted, not the 3600 s asked for')
  await clock.advance(299_999)
  t.is(gateway.maps.length, 3)
  await clock.advance(1)
  t.is(gateway.maps.length, 6, 'renewed')
  t.is(mapper.snapshot().mappings[0]!.expiresAt! - clock.time, 600_000, 'the lease counts from the renewal')
  await mapper.close()
  t.deepEqual(gateway.unmaps.map((mapping) => `${mapping.protocol} ${mapping.externalPort}`), ['tcp 6881', 'tcp 6969', 'udp 6969'])
  t.is(mapper.snapshot().state, 'off')
  t.is(clock.pendingMs, undefined, 'no renewal left behind')
})

test('no router: one change to no-gateway, then retries with a doubling delay up to the cap and no further change', async (t) => {
  const clock = new FakeClock()
  const { mapper, changes, searches } = mapperWith(undefined, clock)
  mapper.start()
  await settle()
  t.deepEqual(changes.map((change) => change.state), ['no-gateway'])
  const delays: number[] = []
  for (let retry = 0; retry < 10; retry++) {
    delays.push(clock.pendingMs!)
    await clock.advance(clock.pendingMs!)
  }
  t.deepEqual(delays, [1, 2, 4, 8, 16, 32, 60, 60, 60, 60].map((factor) => Math.min(RETRY_FIRST_MS * factor, RETRY_MAX_MS)))
  t.is(searches(), 11)
  t.is(changes.length, 1, 'retries that find nothing again change nothing (and so log nothing)')
  await mapper.close()
})

test('a router that comes back is found at the next retry; the backoff starts over after a success', async (t) => {
  const clock = new FakeClock()
  const gateway = new FakeGateway()
  gateway.down = true
  const { mapper } = mapperWith(gateway, clock, 120)
  mapper.start()
  await settle()
  t.is(mapper.snapshot().state, 'failed')
  await clock.advance(RETRY_FIRST_MS)
  t.is(mapper.snapshot().state, 'failed')
  t.is(clock.pendingMs, RETRY_FIRST_MS * 2)
  gateway.down = false
  await clock.advance(RETRY_FIRST_MS * 2)
  t.is(mapper.snapshot().state, 'mapped')
  t.is(clock.pendingMs, 60_000, 'renewal at half of 120 s')
  gateway.down = true
  await clock.advance(60_000)
  t.is(mapper.snapshot().state, 'failed')
  t.is(clock.pendingMs, RETRY_FIRST_MS, 'backoff from the start again')
  t.is(mapper.snapshot().mappings.length, 3, 'mappings granted until later are still shown until they expire')
  await clock.advance(RETRY_FIRST_MS * 3)
  t.is(mapper.snapshot().mappings.length, 0, 'expired ones are not')
  await mapper.close()
})

test('a refused port leaves the others mapped, says which, and is asked for again at the renewal', async (t) => {
  const clock = new FakeClock()
  const gateway = new FakeGateway()
  gateway.refuse.add(6881)
  const { mapper } = mapperWith(gateway, clock)
  mapper.start()
  await settle()
  const snapshot = mapper.snapshot()
  t.is(snapshot.state, 'mapped')
  t.deepEqual(snapshot.mappings.map((mapping) => mapping.internalPort), [6969, 6969])
  t.regex(snapshot.error ?? '', /peer tcp 6881: port 6881 is taken/)
  gateway.refuse.clear()
  await clock.advance(clock.pendingMs!)
  t.is(mapper.snapshot().mappings.length, 3)
  t.is(mapper.snapshot().error, undefined)
  await mapper.close()
})

test('a new external address at a renewal is announced once', async (t) => {
  const clock = new FakeClock()
  const gateway = new FakeGateway()
  const { mapper, addresses } = mapperWith(gateway, clock)
  mapper.start()
  await settle()
  await clock.advance(clock.pendingMs!)
  gateway.external = '203.0.113.99'
  await clock.advance(clock.pendingMs!)
  await clock.advance(clock.pendingMs!)
  t.deepEqual(addresses, ['198.51.100.7', '203.0.113.99'])
  await mapper.close()
})

test('with nothing to map it stays off and never looks for a router', async (t) => {
  const clock = new FakeClock()
  let searched = false
  const mapper = new PortMapper({ ports: [], leaseSeconds: 3600, clock, findGateway: async () => { searched = true; return undefined } })
  mapper.start()
  await settle()
  t.is(mapper.snapshot().state, 'off')
  t.false(searched)
  t.is(clock.pendingMs, undefined)
  await mapper.close()
})

test('close while the router is being looked for ends the search and maps nothing afterwards', async (t) => {
  const clock = new FakeClock()
  const gateway = new FakeGateway()
  let release: (() => void) | undefined
  const mapper = new PortMapper({
    ports: PORTS,
    leaseSeconds: 3600,
    clock,
    findGateway: async (signal) => await new Promise((resolve) => {
      release = () => resolve(gateway)
      signal.addEventListener('abort', () => resolve(gateway))
    })
  })
  mapper.start()
  await settle()
  t.not(release, undefined)
  await mapper.close()
  t.deepEqual(gateway.maps, [])
  t.is(clock.pendingMs, undefined)
})
