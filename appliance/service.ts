import { mkdir, stat } from 'node:fs/promises'
import { Catalog } from './catalog/catalog.js'
import { execFile } from 'node:child_process'
import { hostname } from 'node:os'
import { promisify } from 'node:util'
import { HardwareController } from './hardware/hardware-controller.js'
import { DriveWatcher, type Drive } from './library/drive-watcher.js'
import { Publisher } from './library/publisher.js'
import { ResumeStore } from './library/resume-store.js'
import { magnetUri } from './metainfo/magnet.js'
import { Seeder } from './seeder/seeder.js'
import { StatusModel } from './status/status-model.js'
import { EventLoopDelay } from './system/event-loop-delay.js'
import type { Logger } from './system/logger.js'
import { liveReconfigurer, type ReconfigureResult } from './system/reload.js'
import { ConfigError, type Settings } from './system/settings.js'
import { Tracker, type TrackerOptions } from './tracker/tracker.js'
import { HttpServer } from './web/http-server.js'
import { torrentDownloadHandler } from './web/torrent-download.js'
import { registerStatusPage } from './web/status-page.js'
import { WebSeed, webSeedUrl } from './web/web-seed.js'
import { VERSION } from './version.js'

/** Actions a person can take, from a button or the web page; each exists once, here. */
export interface Commands {
  /** Looks at every library again now, instead of at the next periodic rescan. */
  rescan: () => Promise<void>
  /** Unmounts every drive so it is safe to pull; the status says so once done. */
  eject: () => Promise<void>
  /** Powers the box off cleanly (systemd stops this service first). */
  shutdown: () => Promise<void>
}

export interface Service {
  readonly catalog: Catalog
  readonly publisher: Publisher
  readonly status: StatusModel
  readonly commands: Commands
  readonly hardware: HardwareController
  readonly ports: { readonly http: number, readonly tracker: number, readonly peer: number }
  /** Applies reloaded settings: the live keys at once, the others are reported as waiting for a restart. */
  reconfigure: (next: Settings) => Promise<ReconfigureResult>
  close: () => Promise<void>
}

const LEECHER_DIAL_DELAY_MS = 2000
const execFileAsync = promisify(execFile)

/** A configured library folder is created if missing; one that cannot be is a config error, not a half-working service. */
async function ensureLibraryFolder (folder: string): Promise<void> {
  try {
    await mkdir(folder, { recursive: true })
    if (!(await stat(folder)).isDirectory()) throw Object.assign(new Error('not a folder'), { code: 'ENOTDIR' })
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error instanceof Error ? error.message : String(error))
    throw new ConfigError(`library.folders: "${folder}" is not a folder that can be created and read (${reason})`, undefined, 'library.folders')
  }
}

/** Tries at picking a port number free for both TCP and UDP, when the tracker port is 0. */
const TRACKER_PORT_ATTEMPTS = 5

/**
 * The tracker with its HTTP and UDP announces on one port number, so http:// and udp:// tracker URLs
 * share it. Asked for port 0, TCP picks the number and UDP takes the same one: the kernel picks free
 * TCP and UDP ports apart, so a number free for UDP can be in use for TCP (seen in the test suite as
 * EADDRINUSE). Another number is tried if UDP has this one taken.
 */
async function startTracker (options: TrackerOptions & { readonly udpPort: number }): Promise<{ tracker: Tracker, trackerHttp: HttpServer }> {
  for (let attempt = 1; ; attempt++) {
    const trackerHttp = new HttpServer({ port: options.udpPort, ...(options.host !== undefined && { host: options.host }) })
    await trackerHttp.start()
    const tracker = new Tracker({ ...options, udpPort: trackerHttp.port })
    try {
      await tracker.start()
    } catch (error) {
      await tracker.close()
      await trackerHttp.close()
      if (options.udpPort !== 0 || attempt === TRACKER_PORT_ATTEMPTS) throw error
      continue
    }
    mountTracker(trackerHttp, tracker)
    return { tracker, trackerHttp }
  }
}

function mountTracker (server: HttpServer, tracker: Tracker): void {
  server.route(['GET'], '/announce', tracker.handleAnnounce)
  server.route(['GET'], '/scrape', tracker.handleScrape)
  server.upgrade('/announce', tracker.handleUpgrade)
}

/** A host as it goes into a URL: IPv6 literals in brackets. */
function urlHost (host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host
}

/**
 * The composition root: builds every part from the settings, wires their events, and starts them
 * in order — seeder, tracker, web server — so that the torrents made afterwards name real ports.
 * Library items are published in the background; the returned service is already serving.
 */
export async function startService (settings: Settings, logger: Logger): Promise<Service> {
  const listenHost = settings['network.listen_host'] === '' ? undefined : settings['network.listen_host']
  const announceHost = urlHost(settings['network.announce_host'].replaceAll('{hostname}', hostname()))
  for (const folder of settings['library.folders']) await ensureLibraryFolder(folder)

  const catalog = new Catalog()
  const status = new StatusModel()
  const started: Array<{ close: () => Promise<void> }> = []
  const closeAll = async (): Promise<void> => {
    status.setPhase('stopping')
    for (const part of started.reverse()) await part.close()
    status.close()
  }
  // The commands exist before the parts they drive, so the button works from the first moment.
  const parts: { publisher?: Publisher, drives?: DriveWatcher } = {}
  const commands: Commands = {
    rescan: async () => await parts.publisher?.rescan(),
    eject: async () => {
      if (parts.drives === undefined) return
      await parts.drives.eject()
      status.setSafeToRemove()
    },
    shutdown: async () => {
      const [file, ...args] = settings['system.shutdown_command']
      logger.log('info', 'shutting down', { command: settings['system.shutdown_command'].join(' ') })
      await execFileAsync(file!, args, { timeout: 30_000 })
    }
  }
  // First, so the LED shows the box booting, and last to stop.
  const hardware = new HardwareController({ status, settings, commands })
  hardware.on('warning', (error) => logger.log('warn', error.message, { code: error.code }))
  hardware.on('gesture', (gesture) => logger.log('info', 'button', { gesture }))
  await hardware.start()
  started.push(hardware)
  try {
    let ownOrigins: string[] = []
    const seeder = new Seeder({
      catalog,
      port: settings['seeder.port'],
      ...(listenHost !== undefined && { host: listenHost }),
      maxConnections: settings['seeder.max_connections'],
      uploadSlots: settings['seeder.upload_slots'],
      uploadRateLimit: settings['seeder.upload_rate_limit'],
      peerUploadRateLimit: settings['seeder.peer_upload_rate_limit'],
      maxOutstandingRequests: settings['seeder.max_requests_per_peer'],
      cacheBytes: settings['seeder.cache_size'],
      lsd: settings['seeder.local_discovery'] ? {} : false,
      isOwnTracker: (url) => ownOrigins.some((origin) => url.startsWith(origin))
    })
    await seeder.start()
    started.push(seeder)

    const { tracker, trackerHttp } = await startTracker({
      catalog,
      everseedPort: seeder.port,
      mode: settings['tracker.mode'] as 'published-only' | 'open',
      udpPort: settings['tracker.port'],
      ...(listenHost !== undefined && { host: listenHost })
    })
    started.push(trackerHttp, tracker)
    const trackerPort = trackerHttp.port

    const webSeed = new WebSeed({ catalog })
    const http = new HttpServer({ port: settings['http.port'], ...(listenHost !== undefined && { host: listenHost }) })
    mountTracker(http, tracker)
    http.route(['GET', 'HEAD'], '/webseed/*', webSeed.handle)
    http.route(['GET', 'HEAD'], '/torrents/*', torrentDownloadHandler(catalog))
    await http.start()
    started.push(http)

    const httpBase = `http://${announceHost}:${http.port}`
    const announceList = [[`http://${announceHost}:${trackerPort}/announce`], [`udp://${announceHost}:${trackerPort}`]]
    ownOrigins = [`http://${announceHost}:${trackerPort}/`, `udp://${announceHost}:${trackerPort}`, `${httpBase}/`]

    const store = new ResumeStore(settings['state.dir'], (error) => {
      logger.log('error', 'cannot save the resume index', { error: error instanceof Error ? error.message : String(error) })
    })
    await store.open()
    let folders = settings['library.folders']
    const drives = settings['library.media_root'] === ''
      ? undefined
      : new DriveWatcher({
        mediaRoot: settings['library.media_root'],
        publishFolder: settings['library.publish_folder_only'] ? 'publish' : undefined,
        ejectCommand: settings['library.eject_command']
      })
    await drives?.start()
    if (drives !== undefined) started.push(drives)
    parts.drives = drives
    const publisher = new Publisher({
      libraries: [...folders, ...(drives?.drives ?? []).map((drive) => drive.library)],
      ...(drives !== undefined && { isAvailable: async (library: string) => await drives.isMounted(library) }),
      catalog,
      store,
      trackersFor: (infoHash) => ({ announceList, urlList: [webSeedUrl(httpBase, infoHash)] }),
      createdBy: `evertorrent/${VERSION}`,
      ...(settings['hashing.threads'] > 0 && { threads: settings['hashing.threads'] }),
      rescanIntervalMs: settings['library.rescan_interval'] * 1000
    })
    started.push(publisher)
    parts.publisher = publisher
    wireLogs({ logger, publisher, seeder, tracker, http, webSeed, store })
    wireStatus(status, { publisher, seeder, tracker, webSeed })
    const seenDrives = new Set<string>()
    const showLibraries = (current: readonly Drive[]): void => {
      for (const drive of current) seenDrives.add(drive.library)
      const mounted = new Set(current.map((drive) => drive.library))
      status.setLibraries([
        ...folders.map((path) => ({ path, kind: 'folder' as const, state: 'present' as const })),
        ...[...seenDrives].map((path) => ({ path, kind: 'drive' as const, state: mounted.has(path) ? 'present' as const : 'removed' as const }))
      ])
    }
    showLibraries(drives?.drives ?? [])
    drives?.on('change', (current) => {
      logger.log('info', 'drives changed', { drives: current.map((drive) => `${drive.mountPoint}(${drive.fsType})`).join(' ') })
      showLibraries(current)
      void publisher.setLibraries([...folders, ...current.map((drive) => drive.library)])
    })
    drives?.on('warning', (message) => logger.log('warn', message))
    tracker.on('announce', (event) => {
      const address = event.peerAddress
      if (address === undefined || event.left === 0 || event.event === 'stopped') return
      // A leecher usually connects to the everseed by itself; give it a moment before connecting to it.
      setTimeout(() => { seeder.connectTo(event.infoHash, { host: address.ip, port: address.port }) }, LEECHER_DIAL_DELAY_MS).unref()
    })
    // A file that no longer matches its torrent is noticed by whoever reads it first; republish it.
    seeder.on('torrent-error', () => { void publisher.rescan() })
    webSeed.on('fileError', () => { void publisher.rescan() })

    logger.log('info', 'ready', {
      http_port: http.port,
      tracker_port: trackerPort,
      peer_port: seeder.port,
      announce: announceList.flat().join(' '),
      libraries: settings['library.folders'].join(' '),
      state_dir: settings['state.dir']
    })
    status.setPhase('running')
    publisher.start().catch((error: unknown) => {
      logger.log('error', 'library scan failed', { error: error instanceof Error ? error.message : String(error) })
    })
    const reconfigure = liveReconfigurer(settings, {
      seeder,
      tracker,
      publisher,
      libraries: {
        setFolders: (next) => {
          folders = [...next]
          showLibraries(drives?.drives ?? [])
          void publisher.setLibraries([...folders, ...(drives?.drives ?? []).map((drive) => drive.library)])
        }
      }
    })
    const eventLoopDelay = new EventLoopDelay()
    eventLoopDelay.start()
    started.push(eventLoopDelay)
    const statusPage = registerStatusPage(http, {
      status,
      eventLoopDelay,
      catalog,
      commands,
      led: hardware,
      version: VERSION,
      adminToken: settings['web.admin_token'],
      trackers: announceList.flat(),
      ...(listenHost !== undefined && { addresses: () => [listenHost] })
    })
    started.push(statusPage)
    statusPage.on('warning', ({ action, error }) => logger.log('warn', 'action failed', { action, error: error instanceof Error ? error.message : String(error) }))
    return { catalog, publisher, status, commands, hardware, ports: { http: http.port, tracker: trackerPort, peer: seeder.port }, reconfigure, close: closeAll }
  } catch (error) {
    await closeAll()
    throw error
  }
}

function wireStatus (status: StatusModel, { publisher, seeder, tracker, webSeed }: Pick<Parts, 'publisher' | 'seeder' | 'tracker' | 'webSeed'>): void {
  publisher.on('item', (item) => status.item(item))
  publisher.on('removed', (path) => status.itemRemoved(path))
  seeder.on('peer-connected', (event) => status.peers(event.infoHash, 1))
  seeder.on('peer-disconnected', (event) => status.peers(event.infoHash, -1))
  seeder.on('uploaded', (event) => status.uploaded(event.infoHash, event.bytes))
  webSeed.on('served', (event) => status.uploaded(event.infoHash, event.bytes))
  tracker.on('announce', (event) => status.swarm(event.infoHash, event.swarm))
}

interface Parts {
  logger: Logger
  publisher: Publisher
  seeder: Seeder
  tracker: Tracker
  http: HttpServer
  webSeed: WebSeed
  store: ResumeStore
}

function wireLogs ({ logger, publisher, seeder, tracker, http, webSeed, store }: Parts): void {
  publisher.on('published', (torrent, status) => {
    logger.log('info', 'published', {
      infohash: torrent.metainfo.infoHash,
      name: torrent.metainfo.name,
      size: torrent.metainfo.totalBytes,
      resumed: status.resumed === true,
      torrent: store.torrentPath(torrent.metainfo.infoHash),
      magnet: magnetUri(torrent.metainfo)
    })
  })
  publisher.on('item', (status) => {
    if (status.state === 'error') logger.log('warn', 'cannot publish', { path: status.path, code: status.error?.code, error: status.error?.message })
    if (status.state === 'hashing' && status.bytesHashed === 0) logger.log('info', 'hashing', { path: status.path, size: status.totalBytes })
  })
  publisher.on('removed', (path) => logger.log('info', 'unpublished', { path }))
  seeder.on('torrent-error', (event) => logger.log('warn', 'torrent content changed or vanished', { infohash: event.infoHash, code: event.code, error: event.message }))
  seeder.on('warning', (event) => logger.log('warn', event.message, { code: event.code, infohash: event.infoHash }))
  tracker.on('warning', (error) => logger.log('debug', error.message, { code: error.code }))
  http.on('warning', (error) => logger.log('warn', error.message, { code: error.code }))
  webSeed.on('fileError', (event) => logger.log('warn', event.error.message, { infohash: event.infoHash, code: event.error.code }))
}
