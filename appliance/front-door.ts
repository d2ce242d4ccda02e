import type { Settings } from './config/settings.js'
import { ConnectionGate } from './net/connection-gate.js'
import { fitConnectionLimits, readOpenFilesLimit } from './net/descriptor-budget.js'
import type { Logger } from './platform/logger.js'
import { HttpServer, httpServerOptionsFrom } from './web/http-server.js'
import { mountStatusPageAssets } from './web/status-page-assets.js'

/**
 * The web server, listening and serving the status page's files before the rest of the service is
 * loaded: importing the tracker, seeder and their packages takes several times longer than Node's own
 * start, and a browser opened at that moment should get the page (which then waits for `/api/`), not a
 * refused connection. Every other request waits until the service mounts its routes (`mounted()`).
 * It imports only what that takes.
 */
export interface FrontDoor {
  /** The web server on `http.port`, listening; `mounted()` releases the requests it holds. */
  readonly http: HttpServer
  /** One gate over both HTTP ports (this one and the tracker's): their connections share one budget of descriptors. */
  readonly gate: ConnectionGate
  /** The settings with the connection limits fitted under the open-files limit: what the engines are given. */
  readonly settings: Settings
  /** The same fitting for settings loaded later (a reload). */
  readonly fit: (settings: Settings) => Settings
}

export async function openFrontDoor (settings: Settings, logger: Logger): Promise<FrontDoor> {
  const openFilesLimit = await readOpenFilesLimit()
  const fit = (next: Settings): Settings => fitConnectionLimits(next, openFilesLimit).settings
  const given = fitConnections(settings, openFilesLimit, logger)
  const httpOptions = httpServerOptionsFrom(given)
  const gate = new ConnectionGate(httpOptions.connections)
  const http = new HttpServer({ ...httpOptions, port: given['http.port'], gate })
  mountStatusPageAssets(http)
  http.holdUntilMounted()
  await http.start()
  return { http, gate, settings: given, fit }
}

/** The settings with the connection limits that fit under the open-files limit; logs when they had to be lowered. */
function fitConnections (settings: Settings, openFilesLimit: number | undefined, logger: Logger): Settings {
  const { settings: fitted, budget, other } = fitConnectionLimits(settings, openFilesLimit)
  if (budget.lowered) {
    logger.log('warn', 'connection limits lowered to fit the open-files limit', {
      open_files_limit: openFilesLimit,
      needed: budget.needed,
      fd_reserve: settings['system.fd_reserve'],
      other_fds: other,
      http_max_connections: budget.httpConnections,
      seeder_max_connections: budget.peerConnections,
      configured: `http.max_connections=${settings['http.max_connections']} seeder.max_connections=${settings['seeder.max_connections']}`
    })
  }
  return fitted
}
