import { spawn, type ChildProcessByStdio } from 'node:child_process'
import { once } from 'node:events'
import type { Writable } from 'node:stream'

/**
 * The helper that owns the datagram socket. Node has no AF_UNIX SOCK_DGRAM sockets, and a pipe is a
 * byte stream, so messages cross the pipe NUL-terminated (no sd_notify message contains a NUL) and the
 * helper sends each one as exactly one datagram, in order. perl-base is Essential in Debian, so it is
 * on every image; see docs/systemd.md for why not systemd-notify(1) per message or socat.
 * It ignores SIGTERM/SIGINT/SIGHUP (sent to the whole unit or terminal) and ends when the pipe closes,
 * so the service's last message (STOPPING=1) still goes out.
 */
const HELPER = String.raw`
use strict; use warnings; use Socket;
$SIG{$_} = 'IGNORE' for qw(TERM INT HUP);
my $name = shift; (my $address = $name) =~ s/^@/\0/;
socket(my $socket, AF_UNIX, SOCK_DGRAM, 0) or die "evertorrent notify helper: socket: $!\n";
my $to = pack_sockaddr_un($address);
local $/ = "\0";
while (my $message = <STDIN>) {
  chomp $message;
  defined send($socket, $message, 0, $to) or warn "evertorrent notify helper: sending to $name: $!\n";
}
`

/** Where the bytes of the pipe go beyond this: the helper is stuck (systemd not reading); drop rather than grow. */
const MAX_BACKLOG_BYTES = 64 * 1024
/** A helper that died is started again at the next message, but not more often than this. */
const RESPAWN_INTERVAL_MS = 1000

export interface NotifySocketOptions {
  /** `$NOTIFY_SOCKET`: a path, or `@name` for an abstract socket. */
  readonly address: string
  /** The helper's interpreter; default `perl` from PATH. */
  readonly perl?: string
  /** Told when the helper cannot be started, died, or a message had to be dropped. */
  readonly onProblem?: (message: string) => void
  readonly now?: () => number
}

/** Sends sd_notify datagrams to `$NOTIFY_SOCKET` through one long-lived helper process. */
export class NotifySocket {
  private child: ChildProcessByStdio<Writable, null, null> | undefined
  private startedAt = Number.NEGATIVE_INFINITY
  private closed = false
  private readonly now: () => number

  constructor (private readonly options: NotifySocketOptions) {
    this.now = options.now ?? Date.now
  }

  /** True for the addresses systemd hands out to services: a path or an abstract name. */
  static supports (address: string): boolean {
    return address.startsWith('/') || (address.startsWith('@') && address.length > 1)
  }

  /** Queues one datagram; never throws and never blocks. */
  send (message: string): void {
    if (this.closed) return
    const child = this.helper()
    if (child === undefined) return
    if (child.stdin.writableLength > MAX_BACKLOG_BYTES) {
      this.problem(`dropping "${message.split('\n')[0]!}": the notify helper is not keeping up`)
      return
    }
    child.stdin.write(`${message.replaceAll('\0', '')}\0`)
  }

  /** Sends what is queued, lets the helper end, and resolves when it has (at most `timeoutMs` later). */
  async close (timeoutMs = 2000): Promise<void> {
    this.closed = true
    const child = this.child
    this.child = undefined
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return
    const exited = once(child, 'exit').catch(() => {})
    child.stdin.end()
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    await exited
    clearTimeout(timer)
  }

  private helper (): ChildProcessByStdio<Writable, null, null> | undefined {
    if (this.child !== undefined) return this.child
    if (this.now() - this.startedAt < RESPAWN_INTERVAL_MS) return undefined
    this.startedAt = this.now()
    const child = spawn(this.options.perl ?? 'perl', ['-e', HELPER, this.options.address], { stdio: ['pipe', 'ignore', 'inherit'] })
    // EPIPE when the helper is gone; 'exit' below reports it.
    child.stdin.on('error', () => {})
    child.once('error', (error) => {
      if (this.child === child) this.child = undefined
      this.problem(`cannot start the notify helper (${this.options.perl ?? 'perl'}): ${error.message}`)
    })
    child.once('exit', (code, signal) => {
      if (this.child !== child) return
      this.child = undefined
      this.problem(`the notify helper ended (${signal ?? `exit code ${String(code)}`}); starting it again at the next message`)
    })
    this.child = child
    return child
  }

  private problem (message: string): void {
    this.options.onProblem?.(message)
  }
}
