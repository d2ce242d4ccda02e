import test from 'ava'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { exitOf } from '../helpers/child-process.js'
import { LineLog } from '../helpers/line-log.js'
import { NetnsTopology } from '../helpers/netns-topology.js'
import { sourcePath } from '../helpers/repo.js'
import { run } from '../helpers/run.js'
import type { LogLine, ServeProcess } from '../helpers/serve-process.js'
import { serveInLan } from '../helpers/serve-in-lan.js'
import { fileURLToPath } from 'node:url'

// The box in the lan namespace of a real NAT router (nftables + Debian's miniupnpd); see
// test/helpers/netns-topology.ts and docs/reach.md. These tests share the machine's namespaces
// with nothing: each builds its own topology and removes it. Serial: each runs serve and a router.

const PROBE = sourcePath('test/helpers/reach_probe.py')
const MAPPER_PROBE = fileURLToPath(new URL('../helpers/port-mapper-probe.js', import.meta.url))
const isRouterLine = (line: LogLine): boolean => /router|NAT-PMP|UPnP|port mapping/i.test(line.msg)

async function publishOne (serve: ServeProcess, library: string): Promise<string> {
  writeFileSync(join(library, 'hello.bin'), Buffer.alloc(300_000, 7))
  const published = await serve.waitFor((line) => line.msg === 'published', 30_000)
  return published.infohash!
}

test.serial('serve in the LAN maps its ports through miniupnpd, is reached through them from the internet, and removes them when it stops', async (t) => {
  const net = await NetnsTopology.create(t)
  const { serve, library } = await serveInLan(t, net, {})
  const mapped = await serve.waitFor((line) => line.msg === 'ports mapped on the router', 15_000)
  t.is(mapped.external_address, net.externalAddress, 'the router\'s internet-side address')
  t.is(mapped.gateway, net.routerLan)
  t.is(mapped.method, 'nat-pmp')
  const { peerPort, trackerPort } = serve
  t.is(mapped.mappings, `peer/tcp:${peerPort}->${peerPort} tracker/tcp:${trackerPort}->${trackerPort} tracker/udp:${trackerPort}->${trackerPort}`)
  const table = await net.upnpMappings()
  t.deepEqual(table.map((mapping) => `${mapping.protocol} ${mapping.externalPort}->${mapping.internalAddress}:${mapping.internalPort}`).sort(),
    [`tcp ${peerPort}->${net.box}:${peerPort}`, `tcp ${trackerPort}->${net.box}:${trackerPort}`, `udp ${trackerPort}->${net.box}:${trackerPort}`].sort(),
    'read back from the gateway')

  const infoHash = await publishOne(serve, library)
  const probe = await net.exec(net.internet, ['python3', PROBE, net.externalAddress, String(trackerPort), String(peerPort), infoHash])
  const reached = JSON.parse(probe.stdout) as { scrape: { status: number, body: string } | null, udp_connect: boolean | null, handshake: string | null }
  t.is(reached.scrape?.status, 200, `HTTP scrape through the router: ${probe.stdout}`)
  t.true(reached.scrape?.body.startsWith('d5:files'))
  t.true(reached.udp_connect, `a UDP tracker connect through the router: ${probe.stdout}`)
  t.is(reached.handshake, infoHash, 'the everseed answered a BitTorrent handshake through the router')

  t.is(await serve.stop(), 0)
  t.deepEqual(await net.upnpMappings(), [], 'the gateway holds no mapping of the box after a clean stop')
  t.deepEqual(await net.dnatRules(), [], 'and no DNAT rule is left in the router')
  t.is(serve.lines.filter(isRouterLine).length, 1, serve.describe())
})

test.serial('a router that speaks only UPnP-IGD is used through UPnP, and its mappings are removed at stop', async (t) => {
  const net = await NetnsTopology.create(t, { natPmp: false })
  const { serve } = await serveInLan(t, net, { 'network.map_http_port': true })
  const mapped = await serve.waitFor((line) => line.msg === 'ports mapped on the router', 20_000)
  t.is(mapped.method, 'upnp')
  t.is(mapped.external_address, net.externalAddress)
  const table = await net.upnpMappings()
  t.deepEqual(table.map((mapping) => `${mapping.protocol} ${mapping.internalPort}`).sort(),
    [`tcp ${serve.httpPort}`, `tcp ${serve.peerPort}`, `tcp ${serve.trackerPort}`, `udp ${serve.trackerPort}`].sort(), 'the HTTP port too, as configured')
  t.true(table.every((mapping) => mapping.internalAddress === net.box))
  t.is(await serve.stop(), 0)
  t.deepEqual(await net.upnpMappings(), [])
})

for (const natPmp of [true, false]) {
  const method = natPmp ? 'nat-pmp' : 'upnp'
  test.serial(`the mapper engine alone, through ${method}: snapshot with the external address and leases; close removes everything and leaves no socket open`, async (t) => {
    const net = await NetnsTopology.create(t, { natPmp })
    const probe = net.spawn(net.lan, [process.execPath, MAPPER_PROBE, '40001'], { stdio: ['pipe', 'pipe', 'pipe'] })
    t.teardown(() => { probe.kill('SIGKILL') })
    const lines = new LineLog(probe.stdout!, (line) => line, () => 'port-mapper-probe')
    const [first] = await lines.waitForCount(() => true, 1, 20_000, 'a snapshot')
    const snapshot = JSON.parse(first!.value) as { state: string, method: string, gateway: string, externalAddress: string, mappings: Array<{ protocol: string, externalPort: number, expiresAt?: number }> }
    t.like(snapshot, { state: 'mapped', method, gateway: net.routerLan, externalAddress: net.externalAddress })
    t.deepEqual(snapshot.mappings.map((mapping) => `${mapping.protocol} ${mapping.externalPort}`), ['tcp 40001', 'udp 40001'])
    for (const mapping of snapshot.mappings) t.true(mapping.expiresAt! > Date.now() + 500_000, 'a lease of about the 600 s asked for')
    t.is((await net.upnpMappings()).length, 2)
    probe.stdin!.end('close\n')
    await lines.waitForCount((line) => line === 'closed', 1, 10_000, 'closed')
    const exit = await Promise.race([exitOf(probe), sleep(5_000).then(() => undefined)])
    t.deepEqual(exit, { code: 0, signal: null }, 'the process ends by itself once closed')
    t.deepEqual(await net.upnpMappings(), [])
  })
}

test.serial('no gateway at all: serve starts, says so in one line, and works on the LAN as before', async (t) => {
  const net = await NetnsTopology.create(t, { gateway: false })
  const { serve, library } = await serveInLan(t, net, {})
  await serve.waitFor((line) => line.msg.startsWith('no router answered'), 20_000)
  const infoHash = await publishOne(serve, library)
  const page = await net.exec(net.lan, ['python3', '-c', `import urllib.request; print(urllib.request.urlopen('http://${net.box}:${serve.httpPort}/api/status', timeout=5).status)`])
  t.is(page.stdout.trim(), '200', 'the status API answers on the LAN')
  const probe = await net.exec(net.lan, ['python3', PROBE, net.box, String(serve.trackerPort), String(serve.peerPort), infoHash])
  const reached = JSON.parse(probe.stdout) as { scrape: { status: number } | null, udp_connect: boolean | null, handshake: string | null }
  t.like(reached, { scrape: { status: 200 }, udp_connect: true, handshake: infoHash }, 'tracker and everseed answer on the LAN')
  t.is(await net.gatewayRequests() > 0, true, 'the box did ask the router')
  t.deepEqual(serve.lines.filter(isRouterLine).map((line) => line.msg), ['no router answered NAT-PMP or UPnP: reachable on the LAN only; asking the router again now and then'])
  t.is(await serve.stop(), 0)
})

test.serial('a router that answers but refuses every mapping: serve says so in one line, keeps going, and maps nothing', async (t) => {
  const net = await NetnsTopology.create(t, { refuse: true })
  const { serve, library } = await serveInLan(t, net, {})
  const failed = await serve.waitFor((line) => line.msg.startsWith('port mapping failed'), 20_000)
  // miniupnpd answers UPnP and refuses every AddPortMapping its rules deny (see NetnsTopology's `refuse`).
  t.regex(failed.error ?? '', /^peer tcp \d+: UPnP gateway refused: Action not authorized \(error 606\)/)
  await publishOne(serve, library)
  t.deepEqual(await net.dnatRules(), [])
  t.is(serve.lines.filter(isRouterLine).length, 1, serve.describe())
  t.is(await serve.stop(), 0)
})

test.serial('namespaces left by a crashed run (its process gone) are removed by the next topology', async (t) => {
  const deadPid = Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8')) + 1
  const stale = `etns${deadPid}x0-r`
  const made = await run('/usr/sbin/ip', ['netns', 'add', stale])
  t.is(made.exitCode, 0, made.stderr)
  t.teardown(async () => { await run('/usr/sbin/ip', ['netns', 'delete', stale]) })
  await NetnsTopology.create(t, { gateway: false })
  const { stdout } = await run('/usr/sbin/ip', ['netns', 'list'])
  t.false(stdout.includes(stale), stdout)
})

test.serial('network.port_mapping = "off": not one datagram to the router, nothing in the log, nothing mapped', async (t) => {
  const net = await NetnsTopology.create(t)
  const { serve } = await serveInLan(t, net, { 'network.port_mapping': 'off' })
  await sleep(3000) // a mapper that ran would have sent its first NAT-PMP request within milliseconds of ready
  t.is(await net.gatewayRequests(), 0)
  t.deepEqual(serve.lines.filter(isRouterLine), [])
  t.deepEqual(await net.upnpMappings(), [])
  t.is(await serve.stop(), 0)
})
