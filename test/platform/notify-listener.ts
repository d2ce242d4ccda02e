import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import type { ExecutionContext } from 'ava'
import { spawnTracked } from '../helpers/child-process.js'
import { SYSTEM_PYTHON } from '../helpers/libtorrent.js'
import { LineLog } from '../helpers/line-log.js'

/**
 * A stand-in for systemd's notify socket: Node cannot open a unix datagram socket, Python can. It
 * prints one JSON line per datagram with CLOCK_MONOTONIC at receipt (the clock of MONOTONIC_USEC=).
 */
const LISTENER = `
import json, socket, sys, time
address = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind('\\0' + address[1:] if address.startswith('@') else address)
print(json.dumps({'listening': address}), flush=True)
while True:
    data, ancillary, flags, sender = s.recvmsg(65536, 1024)
    print(json.dumps({'usec': time.monotonic_ns() // 1000, 'message': data.decode('utf-8')}), flush=True)
`

export interface Datagram {
  /** CLOCK_MONOTONIC in µs when it arrived. */
  readonly usec: number
  readonly message: string
  /** The message's assignments, `READY=1` → `{ READY: '1' }`. */
  readonly fields: Readonly<Record<string, string>>
}

export class NotifyListener {
  private readonly log: LineLog<Datagram>

  private constructor (private readonly child: ChildProcess) {
    this.log = new LineLog(child.stdout!, parseDatagram, () => `got:\n${this.datagrams.map((datagram) => JSON.stringify(datagram.message)).join('\n')}`)
  }

  /** Listens at `address` (a path, or `@name` for an abstract socket) until the test ends. */
  static async start (t: ExecutionContext, address: string): Promise<NotifyListener> {
    const child = spawnTracked(SYSTEM_PYTHON, ['-c', LISTENER, address])
    t.teardown(() => { child.kill('SIGKILL') })
    const listener = new NotifyListener(child)
    const [chunk] = await once(child.stdout!, 'data') as [string]
    if (!chunk.includes('listening')) throw new Error(`the notify listener did not start: ${chunk}`)
    return listener
  }

  get datagrams (): Datagram[] {
    return this.log.values
  }

  /** The datagrams carrying `KEY=value` (any value when `value` is undefined). */
  with (key: string, value?: string): Datagram[] {
    return this.datagrams.filter((datagram) => key in datagram.fields && (value === undefined || datagram.fields[key] === value))
  }

  /** Resolves with the first datagram after index `from` that matches. */
  async waitFor (match: (datagram: Datagram) => boolean, timeoutMs = 20_000, from = 0): Promise<Datagram> {
    return (await this.log.waitFor(match, timeoutMs, 'a matching datagram', from)).value
  }

  get pid (): number {
    return this.child.pid!
  }
}

/** One line of the listener: a datagram, or (its first line) the news that it listens. */
function parseDatagram (line: string): Datagram | undefined {
  const parsed = JSON.parse(line) as { usec?: number, message?: string }
  if (parsed.message === undefined) return undefined
  const fields = Object.fromEntries(parsed.message.split('\n').filter((part) => part.includes('=')).map((part) => [part.slice(0, part.indexOf('=')), part.slice(part.indexOf('=') + 1)]))
  return { usec: parsed.usec!, message: parsed.message, fields }
}
