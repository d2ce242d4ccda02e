export type LogLevel = 'debug' | 'info' | 'warn' | 'error'
export type LogFields = Record<string, string | number | boolean | undefined>

export interface Logger {
  log: (level: LogLevel, msg: string, fields?: LogFields) => void
}

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 }

/** logfmt lines (`level=info msg=published name="x"`), one per event, for journald and for grep. */
export function logfmtLogger (write: (line: string) => void = (line) => process.stdout.write(line), minLevel: LogLevel = 'info'): Logger {
  return {
    log (level, msg, fields = {}) {
      if (RANK[level] < RANK[minLevel]) return
      const parts = [`level=${level}`, `msg=${formatValue(msg)}`]
      for (const [key, value] of Object.entries(fields)) {
        if (value !== undefined) parts.push(`${key}=${formatValue(String(value))}`)
      }
      write(`${parts.join(' ')}\n`)
    }
  }
}

function formatValue (value: string): string {
  return /^[^\s"=\\]+$/.test(value) ? value : JSON.stringify(value)
}
