import { spawn, type ChildProcessByStdio } from 'node:child_process'
import { once } from 'node:events'
import type { Readable } from 'node:stream'
import type { ExecutionContext } from 'ava'

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
  readonly datagrams: Datagram[] = []
  private readonly waiters = new Set<() => void>()

  private constructor (private readonly child: ChildProcessByStdio<null, Readable, Readable>) {
    let pending = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      pending += chunk
      const lines = pending.split('\n')
      pending = lines.pop()!
      for (const line of lines) {
        const parsed = JSON.parse(line) as { usec?: number, message?: string }
        if (parsed.message === undefined) continue
        const fields = Object.fromEntries(parsed.message.split('\n').filter((part) => part.includes('=')).map((part) => [part.slice(0, part.indexOf('=')), part.slice(part.indexOf('=') + 1)]))
        this.datagrams.push({ usec: parsed.usec!, message: parsed.message, fields })
      }
      for (const wake of this.waiters) wake()
    })
  }

  /** Listens at `address` (a path, or `@name` for an abstract socket) until the test ends. */
  static async start (t: ExecutionContext, address: string): Promise<NotifyListener> {
    const child = spawn('/usr/bin/python3', ['-c', LISTENER, address], { stdio: ['ignore', 'pipe', 'pipe'] })
    t.teardown(() => { child.kill('SIGKILL') })
    const listener = new NotifyListener(child)
    const [chunk] = await once(child.stdout, 'data') as [string]
    if (!chunk.includes('listening')) throw new Error(`the notify listener did not start: ${chunk}`)
    return listener
  }

  /** The datagrams carrying `KEY=value` (any value when `value` is undefined). */
  with (key: string, value?: string): Datagram[] {
    return this.datagrams.filter((datagram) => key in datagram.fields && (value === undefined || datagram.fields[key] === value))
  }

  /** Resolves with the first datagram after index `from` that matches. */
  async waitFor (match: (datagram: Datagram) => boolean, timeoutMs = 20_000, from = 0): Promise<Datagram> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const found = this.datagrams.slice(from).find(match)
      if (found !== undefined) return found
      const remaining = deadline - Date.now()
      if (remaining <= 0) throw new Error(`no matching datagram within ${timeoutMs} ms; got:\n${this.datagrams.map((datagram) => JSON.stringify(datagram.message)).join('\n')}`)
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          clearTimeout(timer)
          this.waiters.delete(wake)
          resolve()
        }
        const timer = setTimeout(wake, remaining)
        this.waiters.add(wake)
      })
    }
  }

  get pid (): number {
    return this.child.pid!
  }
}
