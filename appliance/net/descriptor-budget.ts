import { readFile } from 'node:fs/promises'
import { availableParallelism } from 'node:os'

/**
 * Descriptors the service holds besides connections, content files and hashing: stdio, the listening
 * sockets, the UDP tracker sockets (one per local address), Node's and its threads' epoll, eventfd and
 * pipe descriptors, inotify, the systemd notify helper and state writes. Measured at rest at 38 with
 * 2 hashing threads and 5 local addresses (`ls /proc/<pid>/fd`); 64 leaves room for more addresses.
 */
export const BASE_DESCRIPTORS = 64
/** A hashing thread: the file it reads, and its own event loop's epoll, eventfd and wake-up pipe. */
export const DESCRIPTORS_PER_HASHING_THREAD = 4
/** `http.max_connections` is never lowered under its smallest allowed value. */
const MIN_HTTP_CONNECTIONS = 16

export interface DescriptorDemand {
  /** The process's (soft) open-files limit; undefined where it cannot be read (not Linux). */
  readonly openFilesLimit: number | undefined
  /** `http.max_connections`: both HTTP ports together. */
  readonly httpConnections: number
  /** `seeder.max_connections`. */
  readonly peerConnections: number
  /** `system.fd_reserve`: kept free for the library scan, hashing and state writes. */
  readonly reserve: number
  /** Everything else the service keeps open: see `otherDescriptors`. */
  readonly other: number
}

export interface DescriptorBudget {
  readonly httpConnections: number
  readonly peerConnections: number
  /** True when the limits asked for did not fit and were lowered. */
  readonly lowered: boolean
  /** What the limits asked for would take: connections, reserve and the rest. */
  readonly needed: number
  /** Descriptors connections may take, both kinds together (Infinity when the limit is unknown). */
  readonly available: number
}

/** The descriptors the service holds besides connections and the reserve, from its settings. */
export function otherDescriptors (options: { readonly maxOpenFiles: number, readonly hashingThreads: number }): number {
  return BASE_DESCRIPTORS + options.maxOpenFiles + DESCRIPTORS_PER_HASHING_THREAD * options.hashingThreads
}

/**
 * The connection limits that fit under the open-files limit: unchanged when they fit (or when the
 * limit is unknown), else both lowered in proportion so that connections, the reserve and the rest
 * stay under it. Without this, connections take the last descriptors and a library scan then fails
 * with EMFILE.
 */
export function descriptorBudget (demand: DescriptorDemand): DescriptorBudget {
  const { openFilesLimit, httpConnections, peerConnections, reserve, other } = demand
  const needed = httpConnections + peerConnections + reserve + other
  const available = openFilesLimit === undefined ? Infinity : Math.max(0, openFilesLimit - reserve - other)
  if (needed - reserve - other <= available) return { httpConnections, peerConnections, lowered: false, needed, available }
  const share = available / (httpConnections + peerConnections)
  return {
    httpConnections: Math.max(MIN_HTTP_CONNECTIONS, Math.floor(httpConnections * share)),
    peerConnections: Math.max(1, Math.floor(peerConnections * share)),
    lowered: true,
    needed,
    available
  }
}

/** The budget's keys of the settings table, as the service's `Settings` has them. */
export interface BudgetSettings {
  readonly 'http.max_connections': number
  readonly 'seeder.max_connections': number
  readonly 'system.fd_reserve': number
  readonly 'seeder.max_open_files': number
  readonly 'hashing.threads': number
}

export interface FittedLimits<S extends BudgetSettings> {
  /** `settings` with `http.max_connections` and `seeder.max_connections` lowered if they did not fit. */
  readonly settings: S
  readonly budget: DescriptorBudget
  /** The descriptors counted besides connections and the reserve (see `otherDescriptors`). */
  readonly other: number
}

/**
 * The connection limits of `settings` fitted under `openFilesLimit` (see `descriptorBudget`), as the
 * engines are given them: at start, and on every reload, so that a reload gives the limits a restart
 * with the same settings would.
 */
export function fitConnectionLimits<S extends BudgetSettings> (settings: S, openFilesLimit: number | undefined): FittedLimits<S> {
  const threads = settings['hashing.threads']
  const other = otherDescriptors({ maxOpenFiles: settings['seeder.max_open_files'], hashingThreads: threads > 0 ? threads : availableParallelism() })
  const budget = descriptorBudget({
    openFilesLimit,
    httpConnections: settings['http.max_connections'],
    peerConnections: settings['seeder.max_connections'],
    reserve: settings['system.fd_reserve'],
    other
  })
  const fitted = { ...settings, 'http.max_connections': budget.httpConnections, 'seeder.max_connections': budget.peerConnections }
  return { settings: fitted, budget, other }
}

/** The soft "Max open files" of a `/proc/<pid>/limits` text; undefined if absent or unlimited. */
export function parseOpenFilesLimit (limitsText: string): number | undefined {
  const soft = /^Max open files\s+(\S+)\s+\S+/m.exec(limitsText)?.[1]
  return soft === undefined || !/^\d+$/.test(soft) ? undefined : Number(soft)
}

/**
 * This process's open-files limit, as Linux reports it. Node raises the soft limit to the hard one at
 * start, so this is the hard limit the service was given (systemd's `LimitNOFILE=`). Undefined
 * elsewhere: the limits are then taken as they are.
 */
export async function readOpenFilesLimit (limitsFile = '/proc/self/limits'): Promise<number | undefined> {
  try {
    return parseOpenFilesLimit(await readFile(limitsFile, 'utf8'))
  } catch {
    return undefined
  }
}
