import { readFile } from 'node:fs/promises'
import { createServer } from 'node:net'

/**
 * A TCP port on 127.0.0.1 that is free now, for clients that must be told a port rather than pick
 * their own. It is drawn at random below the kernel's ephemeral range, where no outgoing connection
 * and no bind to port 0 can take it before the client binds it (with dozens of loopback connections
 * in flight, a port from "bind 0, read, close" is soon reused); each candidate is checked by binding it.
 */
export async function freePort (): Promise<number> {
  const ephemeralLow = await ephemeralRangeStart()
  for (let attempt = 0; attempt < 50 && ephemeralLow > lowestPort + 1000; attempt++) {
    const port = lowestPort + Math.floor(Math.random() * (ephemeralLow - lowestPort))
    // Two ports asked for one client (qBittorrent's Web UI and peer port) once came out the same.
    if (!handedOut.has(port) && await bindable(port)) return handOut(port)
  }
  return handOut(await boundPort(0))
}

/** Ports this process has handed out: none is handed out twice, though the first may not be bound yet. */
const handedOut = new Set<number>()

function handOut (port: number): number {
  handedOut.add(port)
  return port
}

const lowestPort = 10_000

async function ephemeralRangeStart (): Promise<number> {
  const range = await readFile('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').catch(() => '')
  return Number(range.trim().split(/\s+/)[0]) || 0
}

async function bindable (port: number): Promise<boolean> {
  return await boundPort(port).then(() => true, () => false)
}

/** Binds `port` on 127.0.0.1, closes it again and returns the port that was bound. */
async function boundPort (port: number): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', resolve)
  })
  const address = server.address()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  if (address === null || typeof address === 'string') throw new Error('freePort: the socket has no TCP address')
  return address.port
}
