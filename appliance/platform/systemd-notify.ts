import { NotifySocket } from './notify-socket.js'

/** The variables systemd sets for a Type=notify service (systemd.exec(5), sd_watchdog_enabled(3)). */
export interface NotifyEnvironment {
  readonly NOTIFY_SOCKET?: string | undefined
  readonly WATCHDOG_USEC?: string | undefined
  readonly WATCHDOG_PID?: string | undefined
}

/** STATUS= goes out when its text changes, but not more often than this. */
export const STATUS_INTERVAL_MS = 2000

/**
 * How often to send WATCHDOG=1: half of `$WATCHDOG_USEC`, as sd_watchdog_enabled(3) advises; undefined
 * when there is no watchdog, or it is meant for another process (`$WATCHDOG_PID`).
 */
export function watchdogIntervalMs (env: NotifyEnvironment, pid: number): number | undefined {
  if (env.WATCHDOG_PID !== undefined && env.WATCHDOG_PID !== '' && Number(env.WATCHDOG_PID) !== pid) return undefined
  const usec = Number(env.WATCHDOG_USEC)
  if (env.WATCHDOG_USEC === undefined || !Number.isSafeInteger(usec) || usec <= 0) return undefined
  return Math.max(1, Math.floor(usec / 2000))
}

/** CLOCK_MONOTONIC in µs (libuv's hrtime is CLOCK_MONOTONIC on Linux), as MONOTONIC_USEC= wants it. */
export function monotonicUsec (): bigint {
  return process.hrtime.bigint() / 1000n
}

export interface SystemdNotifyOptions {
  readonly socket: { send: (message: string) => void, close: () => Promise<void> }
  /** Send WATCHDOG=1 this often; undefined for no watchdog. */
  readonly watchdogMs?: number | undefined
  readonly now?: () => number
}

/**
 * The service's side of sd_notify(3): READY=1, RELOADING=1 (with MONOTONIC_USEC=, which
 * Type=notify-reload needs), STOPPING=1, STATUS= (only changes, at most every 2 s) and WATCHDOG=1 from
 * a timer on the event loop, so that a blocked loop stops the pings and systemd restarts the service.
 */
export class SystemdNotify {
  private readonly socket: SystemdNotifyOptions['socket']
  private readonly now: () => number
  private readonly watchdogTimer: NodeJS.Timeout | undefined
  private statusTimer: NodeJS.Timeout | undefined
  private sentStatus: string | undefined
  private sentStatusAt = Number.NEGATIVE_INFINITY
  private wantedStatus: string | undefined

  constructor (options: SystemdNotifyOptions) {
    this.socket = options.socket
    this.now = options.now ?? Date.now
    if (options.watchdogMs !== undefined) {
      this.watchdogTimer = setInterval(() => this.socket.send('WATCHDOG=1'), options.watchdogMs).unref()
    }
  }

  /**
   * The notifier for this process, or undefined when it does not run under systemd's supervision
   * (no `$NOTIFY_SOCKET`): then nothing is sent, and nothing costs anything.
   */
  static fromEnvironment (env: NotifyEnvironment, onProblem: (message: string) => void, pid = process.pid): SystemdNotify | undefined {
    const address = env.NOTIFY_SOCKET
    if (address === undefined || address === '') return undefined
    if (!NotifySocket.supports(address)) {
      onProblem(`NOTIFY_SOCKET=${address} is neither a path nor an abstract socket; not notifying systemd`)
      return undefined
    }
    return new SystemdNotify({ socket: new NotifySocket({ address, onProblem }), watchdogMs: watchdogIntervalMs(env, pid) })
  }

  /** Start-up, or a reload, is complete: every port listens. */
  ready (): void {
    this.socket.send('READY=1')
  }

  reloading (): void {
    this.socket.send(`RELOADING=1\nMONOTONIC_USEC=${monotonicUsec()}`)
  }

  stopping (): void {
    this.socket.send('STOPPING=1')
  }

  /** The one-line status `systemctl status` shows; repeated texts are not sent again. */
  status (text: string): void {
    this.wantedStatus = text
    if (this.statusTimer !== undefined) return
    const wait = this.sentStatusAt + STATUS_INTERVAL_MS - this.now()
    if (wait <= 0) {
      this.flushStatus()
      return
    }
    this.statusTimer = setTimeout(() => {
      this.statusTimer = undefined
      this.flushStatus()
    }, wait).unref()
  }

  /** Stops the watchdog and sends what is queued; the last message should be STOPPING=1. */
  async close (): Promise<void> {
    clearInterval(this.watchdogTimer)
    clearTimeout(this.statusTimer)
    await this.socket.close()
  }

  private flushStatus (): void {
    const text = this.wantedStatus
    if (text === undefined || text === this.sentStatus) return
    this.socket.send(`STATUS=${text.replaceAll('\n', ' ')}`)
    this.sentStatus = text
    this.sentStatusAt = this.now()
  }
}
