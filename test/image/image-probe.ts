// Host-side probes for image/test-boot.sh (the qemu boot test of the image): small network and file
// checks that are easier in Node than in shell. Each subcommand prints its result and exits non-zero
// on failure.
//   node dist/test/image/image-probe.js free-ports N
//   node dist/test/image/image-probe.js test-config IN.toml OUT.toml KEY=JSON...
//   node dist/test/image/image-probe.js announce URL INFOHASH
//   node dist/test/image/image-probe.js handshake HOST PORT INFOHASH
import { randomBytes } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import { createServer, connect } from 'node:net'
import { createSocket } from 'node:dgram'
import bencode from 'bencode'
import { parse, stringify } from 'smol-toml'

/** N ports that are free on 127.0.0.1 for TCP and UDP (the tracker listens on both), all different. */
async function freePorts (count: number): Promise<number[]> {
  const ports = new Set<number>()
  while (ports.size < count) {
    const server = createServer()
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as { port: number }).port
    const udp = createSocket('udp4')
    const udpFree = await new Promise<boolean>((resolve) => {
      udp.once('error', () => resolve(false))
      udp.bind(port, '127.0.0.1', () => resolve(true))
    })
    udp.close()
    await new Promise<void>((resolve) => server.close(() => resolve()))
    if (udpFree) ports.add(port)
  }
  return [...ports]
}

/** The shipped config with some keys replaced, e.g. `http.port=8080`, `library.folders=["/srv"]`. */
async function testConfig (input: string, output: string, assignments: string[]): Promise<void> {
  const document = parse(await readFile(input, 'utf8')) as Record<string, Record<string, unknown>>
  for (const assignment of assignments) {
    const match = /^([a-z_]+)\.([a-z_]+)=(.*)$/.exec(assignment)
    if (match === null) throw new Error(`not SECTION.KEY=JSON: ${assignment}`)
    const [, section, key, json] = match as unknown as [string, string, string, string]
    document[section] = { ...document[section], [key]: JSON.parse(json) }
  }
  await writeFile(output, `${stringify(document)}\n`)
}

/** One HTTP announce as a leecher; prints the peers the tracker returned, one `ip:port` a line. */
async function announce (url: string, infoHash: string): Promise<void> {
  const query = new URLSearchParams({ port: '6881', uploaded: '0', downloaded: '0', left: '1', compact: '1', event: 'started' })
  const escape = (hex: string): string => hex.replace(/../g, '%$&')
  const peerId = `-ET0000-${randomBytes(6).toString('hex')}`
  const target = `${url}?info_hash=${escape(infoHash)}&peer_id=${encodeURIComponent(peerId)}&${query.toString()}`
  const response = await fetch(target)
  if (!response.ok) throw new Error(`announce: HTTP ${response.status}`)
  const body = bencode.decode(new Uint8Array(await response.arrayBuffer())) as Record<string, unknown>
  const failure = body['failure reason']
  if (failure instanceof Uint8Array) throw new Error(`announce refused: ${Buffer.from(failure).toString()}`)
  const peers = body.peers
  if (!(peers instanceof Uint8Array)) throw new Error('announce: no compact peer list in the response')
  if (peers.length === 0) throw new Error('announce: the tracker returned no peer (not even the everseed)')
  for (let offset = 0; offset + 6 <= peers.length; offset += 6) {
    const view = Buffer.from(peers.subarray(offset, offset + 6))
    process.stdout.write(`${view[0]}.${view[1]}.${view[2]}.${view[3]}:${view.readUInt16BE(4)}\n`)
  }
}

/**
 * BEP 3 handshake with the everseed; succeeds when it answers for the same infohash and then says it
 * has every piece (BEP 6 HaveAll, or a bitfield).
 */
async function handshake (host: string, port: number, infoHash: string): Promise<void> {
  const socket = connect(port, host)
  const reserved = Buffer.alloc(8)
  reserved[7] = 0x04 // BEP 6: we speak the fast extension, so a seed may answer HaveAll
  const hello = Buffer.concat([Buffer.from([19]), Buffer.from('BitTorrent protocol'), reserved,
    Buffer.from(infoHash, 'hex'), Buffer.from(`-ET0000-${randomBytes(6).toString('hex')}`)])
  let received = Buffer.alloc(0)
  const answer = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('handshake: no answer in 30 s')), 30_000)
    socket.on('connect', () => socket.write(hello))
    socket.on('error', reject)
    socket.on('close', () => reject(new Error(`handshake: connection closed after ${received.length} bytes`)))
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk])
      if (received.length < 68 + 5) return
      if (received.subarray(28, 48).toString('hex') !== infoHash) {
        reject(new Error(`handshake: answered for ${received.subarray(28, 48).toString('hex')}`))
        return
      }
      clearTimeout(timer)
      const id = received[68 + 4]
      resolve(id === 14 ? 'HaveAll' : id === 5 ? 'bitfield' : `message ${String(id)}`)
    })
  })
  socket.destroy()
  if (answer !== 'HaveAll' && answer !== 'bitfield') throw new Error(`handshake: the first message was ${answer}, not HaveAll or a bitfield`)
  process.stdout.write(`everseed answered for ${infoHash} with ${answer}\n`)
}

async function main (args: string[]): Promise<void> {
  const [command, ...rest] = args
  switch (command) {
    case 'free-ports':
      process.stdout.write(`${(await freePorts(Number(rest[0]))).join(' ')}\n`)
      return
    case 'test-config':
      await testConfig(rest[0]!, rest[1]!, rest.slice(2))
      return
    case 'announce':
      await announce(rest[0]!, rest[1]!)
      return
    case 'handshake':
      await handshake(rest[0]!, Number(rest[1]), rest[2]!)
      return
    default:
      throw new Error(`unknown command ${String(command)}: free-ports, test-config, announce or handshake`)
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`image-probe: ${error instanceof Error ? error.message : String(error)}\n`)
  process.exitCode = 1
})
