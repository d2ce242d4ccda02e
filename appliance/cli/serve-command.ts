import { parseArgs } from 'node:util'
import { resolve } from 'node:path'
import { openFrontDoor } from '../front-door.js'
import { loadSettings, withOverrides, type Settings } from '../config/settings.js'
import { logfmtLogger, type Logger } from '../platform/logger.js'
import type { Service } from '../service.js'
import { reloadOnSignal } from '../config/reload.js'
import { statusLine } from '../status/status-line.js'
import { SystemdNotify } from '../platform/systemd-notify.js'
import { UsageError } from './usage-error.js'

export const SERVE_USAGE = `Usage: evertorrent serve [options]

Publishes every top-level file and folder of the library folders: makes a torrent of each, tracks
it, seeds it for ever (the everseed) and serves it over HTTP as a web seed. Stops on SIGINT/SIGTERM;
reloads the config file on SIGHUP. Under systemd (Type=notify-reload) it reports readiness, status
and watchdog pings over $NOTIFY_SOCKET.

Options:
  --library DIR          a library folder (repeatable; default: ~/evertorrent, created if missing)
  --config FILE          a TOML config file (see evertorrent print-config)
  --state-dir DIR        where .torrent files and the resume index live
                         (default: ~/.local/state/evertorrent)
  --http-port N          status page, web seeds and HTTP tracker (default: 8080)
  --tracker-port N       UDP and HTTP announce port (default: 6969)
  --peer-port N          BitTorrent peer port (default: 6881)
  --announce-host HOST   host written into announce and web seed URLs (default: this machine's hostname)
  -h, --help             this help`

/** Turns serve's flags into settings: the config file (or defaults) first, then the flags over it. */
export async function settingsFromServeArgs (args: string[]): Promise<Settings | undefined> {
  const { values } = parseArgs({
    args,
    options: {
      library: { type: 'string', multiple: true },
      config: { type: 'string' },
      'state-dir': { type: 'string' },
      'http-port': { type: 'string' },
      'tracker-port': { type: 'string' },
      'peer-port': { type: 'string' },
      'announce-host': { type: 'string' },
      help: { type: 'boolean', short: 'h' }
    }
  })
  if (values.help === true) return undefined
  const port = (text: string | undefined, flag: string): number | undefined => {
    if (text === undefined) return undefined
    if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) throw new UsageError(`${flag} must be a port from 0 to 65535 (0: any free port), not "${text}"`)
    return Number(text)
  }
  const base = await loadSettings(values.config)
  return withOverrides(base, {
    'library.folders': values.library?.map((folder) => resolve(folder)),
    'state.dir': values['state-dir'] !== undefined ? resolve(values['state-dir']) : undefined,
    'http.port': port(values['http-port'], '--http-port'),
    'tracker.port': port(values['tracker-port'], '--tracker-port'),
    'seeder.port': port(values['peer-port'], '--peer-port'),
    'network.announce_host': values['announce-host']
  }, 'command line')
}

export async function runServe (args: string[], stdout: NodeJS.WriteStream): Promise<void> {
  const settings = await settingsFromServeArgs(args)
  if (settings === undefined) {
    stdout.write(`${SERVE_USAGE}\n`)
    return
  }
  const logger = logfmtLogger((line) => stdout.write(line))
  // Before start-up, so a SIGTERM while the ports open (or just after the `ready` line) stops the
  // service cleanly instead of killing the process by the signal's default action.
  const stopRequested = new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
      logger.log('info', 'stopping', { signal })
      resolve()
    }
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
  })
  // Before start-up, so the watchdog pings already run while the ports open.
  const systemd = SystemdNotify.fromEnvironment(process.env, (message) => logger.log('warn', message))
  const service = await startServiceBehindFrontDoor(settings, logger).catch(async (error: unknown) => {
    await systemd?.close()
    throw error
  })
  service.status.on('change', (snapshot) => systemd?.status(statusLine(snapshot)))
  const stopReloading = reloadOnSignal({ load: async () => (await settingsFromServeArgs(args))!, reconfigure: service.reconfigure, logger, notify: systemd, status: service.status })
  systemd?.ready()
  await stopRequested
  stopReloading()
  systemd?.stopping()
  await service.close()
  logger.log('info', 'stopped')
  await systemd?.close()
}

/**
 * The page's web server listens first, serving the page while the rest of the service (several times
 * Node's own start-up to import) loads; see front-door.ts.
 */
async function startServiceBehindFrontDoor (settings: Settings, logger: Logger): Promise<Service> {
  const door = await openFrontDoor(settings, logger)
  try {
    const { startService } = await import('../service.js')
    return await startService(settings, logger, door)
  } catch (error) {
    await door.http.close()
    throw error
  }
}
