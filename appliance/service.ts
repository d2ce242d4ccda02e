import { mkdir, stat } from 'node:fs/promises'
import { Catalog } from './catalog/catalog.js'
import { execFile } from 'node:child_process'
import { availableParallelism, hostname } from 'node:os'
import { promisify } from 'node:util'
import { HardwareController } from './hardware/hardware-controller.js'
import { DriveWatcher, type Drive } from './library/drive-watcher.js'
import type { ItemState } from './catalog/item-status.js'
import { PausedItems } from './library/paused-items.js'
import { Publisher } from './library/publisher.js'
import { ResumeStore } from './library/resume-store.js'
import { magnetUri } from './metainfo/magnet.js'
import { ConnectionGate } from './net/connection-gate.js'
import { descriptorBudget, otherDescriptors, readOpenFilesLimit } from './net/descriptor-budget.js'
import { ownHostNames } from './net/own-host.js'
import { RefusalSummary } from './net/refusal-summary.js'
import { Seeder } from './seeder/seeder.js'
import { StatusModel } from './status/status-model.js'
import { EventLoopDelay } from './platform/event-loop-delay.js'
import type { Logger } from './platform/logger.js'
import { liveReconfigurer, type ReconfigureResult } from './config/reload.js'
import { ConfigError, type Settings } from './config/settings.js'
import { Tracker, type TrackerOptions } from './tracker/tracker.js'
import { HttpServer, type HttpServerOptions } from './web/http-server.js'
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
  /** Unmounts one drive, by its library path; the others stay published. */
  ejectDrive: (library: string) => Promise<void>
  /** Withdraws one item, by its path, until resumed (across restarts too); nothing of it is hashed meanwhile. */
  pause: (itemPath: string) => Promise<void>
  /** Publishes a paused item again, from the resume store: unchanged content is not hashed again. */
  resume: (itemPath: string) => Promise<void>
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
async function startTracker (options: TrackerOptions & { readonly udpPort: number }, httpOptions: Omit<HttpServerOptions, 'port' | 'host'>): Promise<{ tracker: Tracker, trackerHttp: HttpServer }> {
  for (let attempt = 1; ; attempt++) {
    const trackerHttp = new HttpServer({ ...httpOptions, port: options.udpPort, ...(options.host !== undefined && { host: options.host }) })
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
      const ejected = parts.drives.drives.map((drive) => drive.library)
      await parts.drives.eject()
      for (const library of ejected) status.driveEjected(library)
      status.setSafeToRemove()
    },
    ejectDrive: async (library) => {
      if (parts.drives === undefined) throw new Error('this box watches no drives (library.media_root is empty)')
      await parts.drives.ejectDrive(library)
      status.driveEjected(library)
    },
    pause: async (itemPath) => await parts.publisher?.pause(itemPath),
    resume: async (itemPath) => await parts.publisher?.resume(itemPath),
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
    const budget = await connectionBudget(settings, logger)
    let ownOrigins: string[] = []
    const seeder = new Seeder({
      catalog,
      port: settings['seeder.port'],
      ...(listenHost !== undefined && { host: listenHost }),
      maxConnections: budget.peerConnections,
      maxConnectionsPerTorrent: settings['seeder.max_connections_per_torrent'],
      maxConnectionsPerAddress: settings['seeder.max_connections_per_address'],
      handshakeMs: settings['seeder.handshake_seconds'] * 1000,
      idleMs: settings['seeder.idle_seconds'] * 1000,
      stallMs: settings['seeder.stall_seconds'] * 1000,
      stallDisconnectMs: settings['seeder.stall_disconnect_seconds'] * 1000,
      uploadSlots: settings['seeder.upload_slots'],
      uploadRateLimit: settings['seeder.upload_rate_limit'],
      peerUploadRateLimit: settings['seeder.peer_upload_rate_limit'],
      maxOutstandingRequests: settings['seeder.max_requests_per_peer'],
      cacheBytes: settings['seeder.cache_size'],
      queuedBytes: settings['seeder.block_pool_size'],
      maxOpenFiles: settings['seeder.max_open_files'],
      lsd: settings['seeder.local_discovery'] ? {} : false,
      isOwnTracker: (url) => ownOrigins.some((origin) => url.startsWith(origin))
    })
    await seeder.start()
    started.push(seeder)
    const peerRefusals = new RefusalSummary(({ refused, address, reason }) => {
      logger.log('warn', 'peer connections refused', { refused, last_address: address, reason })
    })
    started.push({ close: async () => { peerRefusals.close() } })
    seeder.on('peer-refused', ({ address, reason }) => {
      if (reason === 'address-limit' || reason === 'connection-limit') peerRefusals.add(address, reason)
    })

    // One gate over both HTTP ports: their connections share one budget of descriptors.
    const gate = new ConnectionGate({ total: budget.httpConnections, perAddress: Math.min(settings['http.max_connections_per_address'], budget.httpConnections) })
    const refusals = new RefusalSummary(({ refused, address, reason }) => {
      logger.log('warn', 'HTTP connections refused', { refused, last_address: address, reason })
    })
    started.push({ close: async () => { refusals.close() } })
    const httpOptions = {
      idleMs: settings['http.idle_seconds'] * 1000,
      headersMs: settings['http.headers_seconds'] * 1000,
      maxHeaderBytes: settings['http.max_header_bytes'],
      gate
    }
    const { tracker, trackerHttp } = await startTracker({
      catalog,
      everseedPort: seeder.port,
      mode: settings['tracker.mode'] as 'published-only' | 'open',
      udpPort: settings['tracker.port'],
      ...(listenHost !== undefined && { host: listenHost }),
      maxSwarms: settings['tracker.max_swarms'],
      maxPeers: settings['tracker.max_peers'],
      maxPeersPerSwarm: settings['tracker.max_peers_per_swarm'],
      maxFrameBytes: settings['tracker.max_ws_frame_bytes'],
      firstMessageMs: settings['http.headers_seconds'] * 1000,
      wsIdleMs: settings['tracker.ws_idle_seconds'] * 1000
    }, httpOptions)
    started.push(trackerHttp, tracker)
    const trackerPort = trackerHttp.port

    const webSeed = new WebSeed({ catalog })
    const http = new HttpServer({ ...httpOptions, port: settings['http.port'], ...(listenHost !== undefined && { host: listenHost }) })
    for (const server of [http, trackerHttp]) server.on('refused', (address, reason) => { refusals.add(address, reason) })
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
    // Read before the first scan, so that a paused item is not published for a moment at start.
    const paused = new PausedItems(settings['state.dir'])
    paused.on('warning', (error) => logger.log('warn', error.message, { code: error.code }))
    await paused.open()
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
      rescanIntervalMs: settings['library.rescan_interval'] * 1000,
      settleMs: settings['library.settle_seconds'] * 1000,
      paused
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
      if (address === undefined || event.left === 0 || event.event === 'stopped' || !event.published) return
      // A leecher usually connects to the everseed by itself; give it a moment before connecting to it.
      setTimeout(() => { seeder.connectTo(event.infoHash, address) }, LEECHER_DIAL_DELAY_MS).unref()
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
      // A reload cannot give peers the descriptors the HTTP connections and the reserve need.
      seeder: { updateLimits: (limits) => { seeder.updateLimits({ ...limits, maxConnections: budget.peersOnReload(limits.maxConnections) }) } },
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
      ...(listenHost !== undefined && { addresses: () => [listenHost] }),
      eventStreams: { maxStreams: settings['http.max_event_streams'], streamsPerAddress: settings['http.event_streams_per_address'] },
      hostNames: ownHostNames(hostname(), announceHost)
    })
    started.push(statusPage)
    statusPage.on('warning', ({ action, error }) => logger.log('warn', 'action failed', { action, error: error instanceof Error ? error.message : String(error) }))
    return { catalog, publisher, status, commands, hardware, ports: { http: http.port, tracker: trackerPort, peer: seeder.port }, reconfigure, close: closeAll }
  } catch (error) {
    await closeAll()
    throw error
  }
}

/**
 * The connection limits that fit under the open-files limit, and the peer limit a reload may set;
 * logs once, at start, when the configured limits had to be lowered.
 */
async function connectionBudget (settings: Settings, logger: Logger): Promise<{ httpConnections: number, peerConnections: number, peersOnReload: (asked: number) => number }> {
  const openFilesLimit = await readOpenFilesLimit()
  const other = otherDescriptors({
    maxOpenFiles: settings['seeder.max_open_files'],
    hashingThreads: settings['hashing.threads'] > 0 ? settings['hashing.threads'] : availableParallelism()
  })
  const first = descriptorBudget({
    openFilesLimit,
    httpConnections: settings['http.max_connections'],
    peerConnections: settings['seeder.max_connections'],
    reserve: settings['system.fd_reserve'],
    other
  })
  if (first.lowered) {
    logger.log('warn', 'connection limits lowered to fit the open-files limit', {
      open_files_limit: openFilesLimit,
      needed: first.needed,
      fd_reserve: settings['system.fd_reserve'],
      other_fds: other,
      http_max_connections: first.httpConnections,
      seeder_max_connections: first.peerConnections,
      configured: `http.max_connections=${settings['http.max_connections']} seeder.max_connections=${settings['seeder.max_connections']}`
    })
  }
  return {
    httpConnections: first.httpConnections,
    peerConnections: first.peerConnections,
    // The HTTP limit stays as started; peers get what it leaves.
    peersOnReload: (asked) => Math.max(1, Math.min(asked, first.available - first.httpConnections))
  }
}

function wireStatus (status: StatusModel, { publisher, seeder, tracker, webSeed }: Pick<Parts, 'publisher' | 'seeder' | 'tracker' | 'webSeed'>): void {
  publisher.on('item', (item) => status.item(item))
  publisher.on('removed', (path) => status.itemRemoved(path))
  seeder.on('peer-connected', (event) => status.peers(event.infoHash, 1))
  seeder.on('peer-disconnected', (event) => status.peers(event.infoHash, -1))
  seeder.on('uploaded', (event) => status.uploaded(event.infoHash, event.bytes))
  webSeed.on('served', (event) => status.uploaded(event.infoHash, event.bytes))
  // Swarms of torrents not published here ("open" mode) are no item's business, and a flood of them must not become a flood of status entries.
  tracker.on('announce', (event) => { if (event.published) status.swarm(event.infoHash, event.swarm) })
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
  // One line per item per change of state (and per distinct error), however often it is looked at.
  const states = new Map<string, ItemState>()
  publisher.on('item', (status) => {
    const before = states.get(status.path)
    states.set(status.path, status.state)
    if (status.state === 'error') logger.log('warn', 'cannot publish', { path: status.path, code: status.error?.code, error: status.error?.message })
    if (status.state === before) return
    if (status.state === 'waiting') logger.log('info', 'waiting for the copy to finish', { path: status.path, size: status.totalBytes })
    if (status.state === 'hashing') logger.log('info', 'hashing', { path: status.path, size: status.totalBytes })
    if (status.state === 'paused') logger.log('info', 'paused', { path: status.path, infohash: status.infoHash })
  })
  publisher.on('removed', (path) => {
    states.delete(path)
    logger.log('info', 'unpublished', { path })
  })
  publisher.on('deferred', (problem) => logger.log('warn', 'library scan deferred: out of resources; everything published stays published, trying again shortly', { code: problem.code, error: problem.message }))
  seeder.on('torrent-error', (event) => logger.log('warn', 'torrent content changed or vanished', { infohash: event.infoHash, code: event.code, error: event.message }))
  seeder.on('warning', (event) => logger.log('warn', event.message, { code: event.code, infohash: event.infoHash }))
  tracker.on('warning', (error) => logger.log('debug', error.message, { code: error.code }))
  http.on('warning', (error) => logger.log('warn', error.message, { code: error.code }))
  webSeed.on('fileError', (event) => logger.log('warn', event.error.message, { infohash: event.infoHash, code: event.error.code }))
  webSeed.on('warning', (error) => logger.log('warn', error.message, { code: error.code }))
}
