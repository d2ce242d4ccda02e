/**
 * The resource limits the systemd unit gives the service, so the soak runs it under the same ones
 * and judges its memory against the same ceiling.
 */

export interface OpenFilesLimit {
  readonly soft: number
  readonly hard: number
}

export interface UnitLimits {
  /** MemoryMax=, in bytes; undefined when the unit sets none. */
  readonly memoryMaxBytes: number | undefined
  /** LimitNOFILE=, or systemd's default for services (1024:524288 since v240) without it. */
  readonly openFiles: OpenFilesLimit
  /** Said when the unit does not set LimitNOFILE (the default applies). */
  readonly openFilesFromUnit: boolean
}

const SYSTEMD_DEFAULT_NOFILE: OpenFilesLimit = { soft: 1024, hard: 524_288 }

/** From the unit file's text; systemd's K/M/G/T are powers of 1024. */
export function unitLimits (unit: string): UnitLimits {
  const memory = /^MemoryMax=(\d+)([KMGT]?)\s*$/m.exec(unit)
  const nofile = /^LimitNOFILE=(\d+)(?::(\d+))?\s*$/m.exec(unit)
  return {
    memoryMaxBytes: memory === null ? undefined : Number(memory[1]) * 1024 ** ' KMGT'.indexOf(memory[2] || ' '),
    openFiles: nofile === null ? SYSTEMD_DEFAULT_NOFILE : { soft: Number(nofile[1]), hard: Number(nofile[2] ?? nofile[1]) },
    openFilesFromUnit: nofile !== null
  }
}

/**
 * The open-files limit the service really runs with: Node raises its soft limit to the hard one at
 * start, so the hard limit is what counts; and no child can be given more than this process's own
 * hard limit (raising it needs CAP_SYS_RESOURCE).
 */
export function effectiveOpenFiles (wanted: OpenFilesLimit, ownHard: number): OpenFilesLimit {
  const hard = Math.min(wanted.hard, ownHard)
  return { soft: hard, hard }
}
