import { readdir, readFile, readlink } from 'node:fs/promises'

/** The local UDP ports (IPv4 and IPv6) process `pid` holds sockets on, from /proc/<pid>/fd and /proc/net/udp{,6}. */
export async function udpPortsOf (pid: number): Promise<number[]> {
  const inodes = new Set<string>()
  for (const fd of await readdir(`/proc/${pid}/fd`)) {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '')
    const match = /^socket:\[(\d+)\]$/.exec(target)
    if (match !== null) inodes.add(match[1]!)
  }
  const ports: number[] = []
  for (const table of ['/proc/net/udp', '/proc/net/udp6']) {
    for (const line of (await readFile(table, 'utf8')).split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/)
      if (fields.length < 10 || !inodes.has(fields[9]!)) continue
      ports.push(parseInt(fields[1]!.split(':')[1]!, 16))
    }
  }
  return ports.sort((a, b) => a - b)
}
