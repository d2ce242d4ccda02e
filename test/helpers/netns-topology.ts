/**
 * A three-network test topology from Linux network namespaces, made and removed by the test that
 * uses it; nothing in it touches the host's own interfaces, so no packet leaves the machine.
 *
 *   lan namespace (the box)          router namespace                      internet namespace
 *   eth0 192.168.77.2  ──veth──  lan0 192.168.77.1 │ wan0 11.77.0.1  ──veth──  eth0 11.77.0.2
 *   default via 192.168.77.1                       │                          (clients, DHT node)
 *                                  nftables: LAN→internet masquerade, forward drop otherwise;
 *                                  miniupnpd (NAT-PMP + UPnP-IGD, secure mode) adds DNAT rules
 *
 * The "internet" side uses 11.77.0.0/24: miniupnpd refuses to act as a gateway whose external
 * address is private or reserved (the RFC 5737 documentation ranges included), so a public-looking
 * range it is; it exists only between two namespaces of this machine.
 *
 * API:
 *   const net = await NetnsTopology.create(t, { gateway: true })  // fails naming what is missing
 *   net.lan / net.router / net.internet        namespace names
 *   net.box, net.externalAddress, net.client   the addresses above
 *   await net.exec(net.internet, ['python3', …])   run to completion, with output
 *   net.spawn(net.internet, ['node', …])           a tracked child inside a namespace
 *   net.wrap(net.lan)                              for ServeOptions.wrap: serve runs in the lan
 *   await net.upnpMappings()                       the gateway's table, read with `upnpc -l`
 *   await net.dnatRules()                          miniupnpd's DNAT rules in the router's nftables
 *   await net.gatewayRequests()                    NAT-PMP and SSDP packets the router got from the LAN
 * Everything is removed when the test ends; namespaces left by a run that crashed are removed by the
 * next `create`.
 */
import type { ChildProcess, SpawnOptions } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { spawnTracked, stopChild } from './child-process.js'
import { LineLog } from './line-log.js'
import { run, type RunResult } from './run.js'
import type { Teardown } from './teardown.js'

export interface TopologyOptions {
  /** Run miniupnpd in the router (default true); false: a router that maps nothing and answers nothing. */
  readonly gateway?: boolean
  /** With `gateway`: which protocols miniupnpd speaks (default both). */
  readonly natPmp?: boolean
  readonly upnp?: boolean
  /** With `gateway`: a router that answers UPnP but refuses every mapping (its permission rules deny all; no NAT-PMP). */
  readonly refuse?: boolean
}

export interface UpnpMapping {
  readonly protocol: 'tcp' | 'udp'
  readonly externalPort: number
  readonly internalAddress: string
  readonly internalPort: number
  readonly description: string
}

const PREFIX = 'etns'
const ROUTER_LAN = '192.168.77.1'
const BOX = '192.168.77.2'
const ROUTER_WAN = '11.77.0.1'
const CLIENT = '11.77.0.2'
const SYSTEM_BIN = ['/usr/sbin', '/usr/bin', '/sbin', '/bin']
const REQUIRED_TOOLS = [['ip', 'iproute2'], ['nft', 'nftables'], ['miniupnpd', 'miniupnpd-nftables'], ['upnpc', 'miniupnpc']] as const
let created = 0

export class NetnsTopology {
  readonly box = BOX
  readonly routerLan = ROUTER_LAN
  /** The router's internet-side address: the box's external address. */
  readonly externalAddress = ROUTER_WAN
  readonly client = CLIENT
  private miniupnpd: ChildProcess | undefined
  private miniupnpdLog: LineLog<string> | undefined

  private constructor (readonly router: string, readonly lan: string, readonly internet: string, private readonly folder: string) {}

  static async create (t: Teardown, options: TopologyOptions = {}): Promise<NetnsTopology> {
    await checkMachine()
    await removeStaleTopologies()
    const id = `${PREFIX}${process.pid}x${created++}`
    const topology = new NetnsTopology(`${id}-r`, `${id}-l`, `${id}-i`, mkdtempSync(join(tmpdir(), 'evertorrent-netns-')))
    t.teardown(async () => { await topology.close() })
    await topology.build()
    // A refusing router speaks UPnP only: miniupnpd 2.3.1 spins a core on every NAT-PMP mapping request its
    // rules deny (measured: ~100 % CPU), which starves the rest of a test run on two cores.
    const refuse = options.refuse ?? false
    if (options.gateway ?? true) await topology.startMiniupnpd(refuse ? false : options.natPmp ?? true, options.upnp ?? true, refuse)
    return topology
  }

  /** Runs a command to completion inside a namespace; rejects when it exits non-zero. */
  async exec (namespace: string, argv: readonly string[], options: { timeoutMs?: number } = {}): Promise<RunResult> {
    const result = await run(systemTool('ip'), ['netns', 'exec', namespace, ...argv], { timeoutMs: options.timeoutMs ?? 30_000 })
    if (result.exitCode !== 0) throw new Error(`${argv.join(' ')} in ${namespace} exited ${result.exitCode ?? result.signal}: ${result.stderr || result.stdout}`)
    return result
  }

  /** A tracked child inside a namespace (`ip netns exec` execs it: the PID is the command's own). */
  spawn (namespace: string, argv: readonly string[], options: SpawnOptions = {}): ChildProcess {
    return spawnTracked(systemTool('ip'), ['netns', 'exec', namespace, ...argv], options)
  }

  /** For `ServeOptions.wrap`: runs the command line inside `namespace`. */
  wrap (namespace: string): (argv: readonly string[]) => string[] {
    return (argv) => [systemTool('ip'), 'netns', 'exec', namespace, ...argv]
  }

  /** The gateway's port mappings, as a UPnP client on the LAN reads them (`upnpc -l`). */
  async upnpMappings (): Promise<UpnpMapping[]> {
    const { stdout } = await this.exec(this.lan, [systemTool('upnpc'), '-l'])
    // ` 0 TCP  6881->192.168.77.2:6881  'evertorrent tcp 6881' '' 3599`
    return [...stdout.matchAll(/^\s*\d+\s+(TCP|UDP)\s+(\d+)->([\d.]+):(\d+)\s+'([^']*)'/gm)].map((match) => ({
      protocol: match[1]!.toLowerCase() as 'tcp' | 'udp',
      externalPort: Number(match[2]),
      internalAddress: match[3]!,
      internalPort: Number(match[4]),
      description: match[5]!
    }))
  }

  /** miniupnpd's DNAT rules, as the router's nftables holds them. */
  async dnatRules (): Promise<string[]> {
    const { stdout } = await this.exec(this.router, [systemTool('nft'), 'list', 'chain', 'inet', 'evt_nat', 'prerouting_miniupnpd'])
    return stdout.split('\n').map((line) => line.trim()).filter((line) => line.includes('dnat'))
  }

  /** NAT-PMP and SSDP datagrams the router received from the LAN since the topology was built. */
  async gatewayRequests (): Promise<number> {
    const { stdout } = await this.exec(this.router, [systemTool('nft'), 'list', 'counter', 'inet', 'evt_filter', 'gateway_requests'])
    const packets = /packets (\d+)/.exec(stdout)
    if (packets === null) throw new Error(`no packet count in: ${stdout}`)
    return Number(packets[1])
  }

  /** What miniupnpd has logged, for a failing test's message. */
  get gatewayLog (): string {
    return this.miniupnpdLog?.values.join('\n') ?? '(no miniupnpd)'
  }

  private async build (): Promise<void> {
    for (const namespace of [this.router, this.lan, this.internet]) {
      await ip('netns', 'add', namespace)
      await ip('-n', namespace, 'link', 'set', 'lo', 'up')
    }
    // Both ends of each veth are made inside the namespaces: no interface appears on the host.
    await ip('link', 'add', 'lan0', 'netns', this.router, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', this.lan)
    await ip('link', 'add', 'wan0', 'netns', this.router, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', this.internet)
    await this.address(this.router, 'lan0', `${ROUTER_LAN}/24`)
    await this.address(this.router, 'wan0', `${ROUTER_WAN}/24`)
    await this.address(this.lan, 'eth0', `${BOX}/24`)
    await this.address(this.internet, 'eth0', `${CLIENT}/24`)
    await this.linksRunning([[this.router, 'lan0'], [this.router, 'wan0'], [this.lan, 'eth0'], [this.internet, 'eth0']])
    await ip('-n', this.lan, 'route', 'add', 'default', 'via', ROUTER_LAN)
    await this.exec(this.router, [systemTool('sysctl'), '-q', '-w', 'net.ipv4.ip_forward=1'])
    const rules = join(this.folder, 'router.nft')
    writeFileSync(rules, routerRules())
    await this.exec(this.router, [systemTool('nft'), '-f', rules])
  }

  /**
   * A veth is running (carrier) a moment after both ends are up; until then Node's networkInterfaces()
   * leaves its address out, and serve would not listen on it (the tracker binds UDP per address).
   */
  private async linksRunning (links: ReadonlyArray<readonly [string, string]>): Promise<void> {
    for (const [namespace, device] of links) {
      for (let attempt = 0; ; attempt++) {
        const { stdout } = await run(systemTool('ip'), ['-n', namespace, '-o', 'link', 'show', 'dev', device])
        if (/[<,]LOWER_UP[,>]/.test(stdout) && /state UP/.test(stdout)) break
        if (attempt === 100) throw new Error(`${device} in ${namespace} did not come up: ${stdout}`)
        await sleep(50)
      }
    }
  }

  private async address (namespace: string, device: string, cidr: string): Promise<void> {
    await ip('-n', namespace, 'addr', 'add', cidr, 'dev', device)
    await ip('-n', namespace, 'link', 'set', device, 'up')
  }

  private async startMiniupnpd (natPmp: boolean, upnp: boolean, refuse: boolean): Promise<void> {
    const config = join(this.folder, 'miniupnpd.conf')
    writeFileSync(config, miniupnpdConfig(this.folder, natPmp, upnp, refuse))
    this.miniupnpd = this.spawn(this.router, [systemTool('miniupnpd'), '-d', '-f', config, '-P', join(this.folder, 'miniupnpd.pid')])
    this.miniupnpdLog = new LineLog(this.miniupnpd.stderr!, (line) => line, () => this.gatewayLog)
    const ready = natPmp ? /Listening for NAT-PMP/ : /HTTP listening on port/
    await this.miniupnpdLog.waitForCount((line) => ready.test(line), 1, 10_000, 'miniupnpd to start')
  }

  async close (): Promise<void> {
    if (this.miniupnpd !== undefined) await stopChild(this.miniupnpd, 5_000)
    await removeNamespaces([this.router, this.lan, this.internet])
    rmSync(this.folder, { recursive: true, force: true })
  }
}

function routerRules (): string {
  return `table inet evt_filter {
  counter gateway_requests {
  }
  chain input {
    type filter hook input priority 0; policy accept;
    iifname "lan0" udp dport { 1900, 5351 } counter name "gateway_requests"
  }
  chain forward {
    type filter hook forward priority 0; policy drop;
    ct state established,related accept
    iifname "lan0" oifname "wan0" accept
    jump miniupnpd
  }
  chain miniupnpd {
  }
}
table inet evt_nat {
  chain prerouting {
    type nat hook prerouting priority -100; policy accept;
    jump prerouting_miniupnpd
  }
  chain postrouting {
    type nat hook postrouting priority 100; policy accept;
    jump postrouting_miniupnpd
    oifname "wan0" masquerade
  }
  chain prerouting_miniupnpd {
  }
  chain postrouting_miniupnpd {
  }
}
`
}

function miniupnpdConfig (folder: string, natPmp: boolean, upnp: boolean, refuse: boolean): string {
  return [
    'ext_ifname=wan0',
    'listening_ip=lan0',
    'http_port=0',
    `enable_natpmp=${natPmp ? 'yes' : 'no'}`,
    `enable_upnp=${upnp ? 'yes' : 'no'}`,
    // A LAN host may map ports to itself only, as on a home router.
    'secure_mode=yes',
    'system_uptime=no',
    `lease_file=${join(folder, 'miniupnpd.leases')}`,
    'upnp_table_name=evt_filter',
    'upnp_nat_table_name=evt_nat',
    'upnp_forward_chain=miniupnpd',
    'upnp_nat_chain=prerouting_miniupnpd',
    'upnp_nat_postrouting_chain=postrouting_miniupnpd',
    'uuid=6d1f0b3e-2f59-4c6a-9d0e-7e0e7e0e7e01',
    ...(refuse ? [] : ['allow 1024-65535 192.168.77.0/24 1024-65535']),
    'deny 0-65535 0.0.0.0/0 0-65535',
    ''
  ].join('\n')
}

/**
 * The Debian tool itself, not a namesake on the PATH: under npx, node_modules/.bin comes first, and
 * it holds an unrelated `nft` (@vercel/nft).
 */
function systemTool (name: string): string {
  const found = SYSTEM_BIN.map((folder) => join(folder, name)).find((path) => existsSync(path))
  if (found === undefined) throw new Error(`${name} is not installed: run scripts/install-test-deps.sh`)
  return found
}

async function ip (...args: string[]): Promise<void> {
  const result = await run(systemTool('ip'), args, { timeoutMs: 10_000 })
  if (result.exitCode !== 0) throw new Error(`ip ${args.join(' ')}: ${result.stderr.trim()}`)
}

async function checkMachine (): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the network namespace topology needs root (ip netns, nft, miniupnpd)')
  const missing: string[] = []
  for (const [tool, debianPackage] of REQUIRED_TOOLS) {
    if (!SYSTEM_BIN.some((folder) => existsSync(join(folder, tool)))) missing.push(`${tool} (Debian package ${debianPackage})`)
  }
  if (missing.length > 0) throw new Error(`the network namespace topology needs ${missing.join(', ')}: run scripts/install-test-deps.sh`)
  const probe = `${PREFIX}probe${process.pid}`
  const made = await run(systemTool('ip'), ['netns', 'add', probe])
  if (made.exitCode !== 0) throw new Error(`this machine cannot make network namespaces (ip netns add: ${made.stderr.trim()})`)
  await removeNamespaces([probe])
}

/** Namespaces of this helper whose test process is gone (a crashed run): their processes are killed by PID, then they are deleted. */
async function removeStaleTopologies (): Promise<void> {
  const { stdout } = await run(systemTool('ip'), ['netns', 'list'])
  const stale = [...stdout.matchAll(new RegExp(`^(${PREFIX}(?:probe)?(\\d+)\\S*)`, 'gm'))]
    .filter((match) => !isAlive(Number(match[2])))
    .map((match) => match[1]!)
  await removeNamespaces(stale)
}

async function removeNamespaces (namespaces: readonly string[]): Promise<void> {
  for (const namespace of namespaces) {
    const pids = await run(systemTool('ip'), ['netns', 'pids', namespace])
    for (const pid of pids.stdout.split('\n').filter((line) => /^\d+$/.test(line))) {
      try { process.kill(Number(pid), 'SIGKILL') } catch {}
    }
    await run(systemTool('ip'), ['netns', 'delete', namespace])
  }
}

function isAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}
