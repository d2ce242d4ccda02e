import { mkdir, stat } from 'node:fs/promises'
import { Catalog } from './catalog/catalog.js'
import { execFile } from 'node:child_process'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { openFrontDoor, type FrontDoor } from './front-door.js'
import { HardwareController } from './hardware/hardware-controller.js'
import type { Drive } from './library/drive-watcher.js'
import type { ItemState } from './catalog/item-status.js'
import { Libraries, librariesOptionsFrom } from './library/libraries.js'
import { PausedItems } from './library/paused-items.js'
import { Publisher, publisherOptionsFrom } from './library/publisher.js'
import { ResumeStore } from './library/resume-store.js'
import { magnetUri } from './metainfo/magnet.js'
import { Mirrors } from './mirror/mirrors.js'
import { makePeerId } from './seeder/peer-id.js'
import { encodeTorrentParts } from './metainfo/metainfo.js'
import { Dht, dhtOptionsFrom, type DhtSnapshot } from './dht/dht.js'
import { CatalogPointer } from './dht/catalog-pointer.js'
import { BoxCatalog } from './identity/box-catalog.js'
import { loadOrCreateBoxKey, type BoxKey } from './identity/box-key.js'
import { ownHostNames } from './net/own-host.js'
import type { PeerAddress } from './net/peer-address.js'
import { PortMapper, type PortMapperSnapshot } from './network/port-mapper.js'
import { portMapperOptionsFrom } from './network/port-mapper-options.js'
import { RefusalSummary } from './net/refusal-summary.js'
import { DialQueue } from './seeder/dial-queue.js'
import { Seeder } from './seeder/seeder.js'
import { seederOptionsFrom } from './seeder/seeder-options.js'
import { StatusModel } from './status/status-model.js'
import { EventLoopDelay } from './platform/event-loop-delay.js'
import type { Logger } from './platform/logger.js'
import { liveReconfigurer, type LiveTarget, type ReconfigureResult } from './config/reload.js'
import { ConfigError, type Settings } from './config/settings.js'
import { Tracker, trackerOptionsFrom, type TrackerOptions } from './tracker/tracker.js'
import { HttpServer, httpServerOptionsFrom, type HttpServerOptions } from './web/http-server.js'
import { PublishedFeed, publishedFeedOptionsFrom } from './web/feed/published-feed.js'
import { torrentDownloadHandler } from './web/torrent-download.js'
import { registerStatusPage, statusPageOptionsFrom, type StatusPage } from './web/status-page.js'
import { TorrentUrls, urlHost } from './web/torrent-urls.js'
import { WebSeed } from './web/web-seed.js'
import { PublicHost, type PublicEndpoint } from './network/public-host.js'
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
async function startTracker (options: TrackerOptions & { readonly udpPort: number }, httpOptions: Omit<HttpServerOptions, 'port'>): Promise<{ tracker: Tracker, trackerHttp: HttpServer }> {
  for (let attempt = 1; ; attempt++) {
    const trackerHttp = new HttpServer({ ...httpOptions, port: options.udpPort })
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

interface Closable {
  close: () => Promise<void> | void
}

/** The parts started so far, closed in the reverse order; the LED closes last, showing `stopping` until the end. */
class Started {
  private readonly parts: Closable[] = []
  private readonly last: Closable[] = []

  async start<T extends Closable & { start: () => Promise<void> | void }> (part: T): Promise<T> {
    await part.start()
    return this.add(part)
  }

  /** Keeps `part`, started by itself or not started at all, for closing. */
  add<T extends Closable> (part: T): T {
    this.parts.push(part)
    return part
  }

  async startLast<T extends Closable & { start: () => Promise<void> }> (part: T): Promise<T> {
    await part.start()
    this.last.push(part)
    return part
  }

  async close (): Promise<void> {
    for (const part of [...this.parts.reverse(), ...this.last.reverse()]) await part.close()
    this.parts.length = 0
    this.last.length = 0
  }
}

/** The engines of the service, started. */
interface Engines {
  readonly catalog: Catalog
  readonly seeder: Seeder
  /** The everseed in the mainline DHT (BEP 5); its snapshot says `enabled: false` when it is off. */
  readonly dht: Dht
  readonly tracker: Tracker
  /** The tracker's own port (HTTP and WebSocket announces); `http` serves the tracker too. */
  readonly trackerHttp: HttpServer
  readonly http: HttpServer
  readonly webSeed: WebSeed
  readonly store: ResumeStore
  readonly libraries: Libraries
  readonly publisher: Publisher
  readonly urls: TorrentUrls
  /** How the internet reaches the box, when it does (`network.public_host`). */
  readonly publicHost: PublicHost
  /** The ports mapped on the router and its external address (`snapshot()`, `change`, `externalAddress`). */
  readonly portMapper: PortMapper
  /** The settings as the engines are given them: connection limits fitted under the open-files limit. */
  readonly fit: (settings: Settings) => Settings
  /** The box's identity: its key pair, by which other boxes follow it. */
  readonly key: BoxKey
  /** The box's catalog torrent, when it is published (`identity.publish_catalog` and the DHT on). */
  readonly boxCatalog: BoxCatalog | undefined
  /** The other boxes followed and everseeded (`[[mirror]]`). */
  readonly mirrors: Mirrors
}

/** The views of the status model, and the commands the buttons and the page run. */
interface Views {
  readonly commands: Commands
  readonly hardware: HardwareController
  readonly statusPage: StatusPage
}

/**
 * The composition root: builds the engines from the settings, wires what one engine does when another
 * speaks, then the views (logs, status model, LED and button, status page). Library items are
 * published in the background; the returned service is already serving.
 */
export async function startService (settings: Settings, logger: Logger, frontDoor?: FrontDoor): Promise<Service> {
  for (const folder of settings['library.folders']) await ensureLibraryFolder(folder)
  const status = new StatusModel()
  const started = new Started()
  const close = async (): Promise<void> => {
    status.setPhase('stopping')
    await started.close()
    status.close()
  }
  try {
    const door = frontDoor ?? await openFrontDoor(settings, logger)
    started.add(door.http)
    const engines = await startEngines(door, logger, started)
    wireFlows(engines, started)
    const views = await startViews(settings, logger, engines, status, started)
    const { catalog, seeder, dht, trackerHttp, http, publisher, urls } = engines
    logger.log('info', 'ready', {
      public_key: engines.key.publicKeyHex,
      http_port: http.port,
      tracker_port: trackerHttp.port,
      peer_port: seeder.port,
      ...(dht.snapshot().enabled && { dht_port: dht.snapshot().port }),
      announce: urls.announceList.flat().join(' '),
      public_host: engines.publicHost.endpoint?.host,
      libraries: settings['library.folders'].join(' '),
      state_dir: settings['state.dir']
    })
    status.setPhase('running')
    engines.portMapper.start()
    publisher.start().then(async () => { await engines.boxCatalog?.publishNow() }).catch((error: unknown) => {
      logger.log('error', 'library scan failed', { error: error instanceof Error ? error.message : String(error) })
    })
    engines.mirrors.start().catch((error: unknown) => {
      logger.log('error', 'mirrors cannot start', { error: error instanceof Error ? error.message : String(error) })
    })
    const reconfigure = liveReconfigurer(settings, liveTargets(engines, views))
    const ports = { http: http.port, tracker: trackerHttp.port, peer: seeder.port }
    return { catalog, publisher, status, commands: views.commands, hardware: views.hardware, ports, reconfigure, close }
  } catch (error) {
    await close()
    throw error
  }
}

/**
 * The engines, each from the settings through its `optionsFrom`, started in the order the ports need:
 * seeder, tracker, web server, so that the torrents made afterwards name real ports.
 */
async function startEngines (door: FrontDoor, logger: Logger, started: Started): Promise<Engines> {
  const { http, gate, settings: given, fit } = door
  // First: a damaged key stops the start before any port is taken (see loadOrCreateBoxKey).
  const key = await loadOrCreateBoxKey(given['state.dir'])
  const catalog = new Catalog()
  // The tracker asks for the public endpoint from its first announce, before `publicHost` exists.
  let publicEndpoint: PublicEndpoint | undefined
  // The seeder asks which trackers are its own once torrents are published: after `urls` is known.
  const seeder = await started.start(new Seeder({ ...seederOptionsFrom(given), catalog, isOwnTracker: (url) => urls.isOwn(url) }))
  const dht = new Dht({ ...dhtOptionsFrom(given, seeder.port), catalog })
  // Before it starts: a refused state file is reported, and a saved table bootstraps, during `start`.
  dht.on('bootstrapped', (nodes) => logger.log('info', 'DHT bootstrapped', { nodes, port: dht.snapshot().port, node_id: dht.nodeId }))
  dht.on('warning', (event) => logger.log('warn', event.message, { code: event.code }))
  await started.start(dht)
  const httpOptions = httpServerOptionsFrom(given)
  const publicEverseed = (): PeerAddress | undefined => publicEndpoint?.ip !== undefined && publicEndpoint.peerPort !== undefined
    ? { ip: publicEndpoint.ip, port: publicEndpoint.peerPort }
    : undefined
  const { tracker, trackerHttp } = await startTracker({ ...trackerOptionsFrom(given), catalog, everseedPort: seeder.port, publicEverseed }, { ...httpOptions, gate })
  started.add(trackerHttp)
  started.add(tracker)
  const webSeed = new WebSeed({ catalog })
  mountTracker(http, tracker)
  http.route(['GET', 'HEAD'], '/webseed/*', webSeed.handle)
  http.route(['GET', 'HEAD'], '/torrents/*', torrentDownloadHandler(catalog))
  // The status page's API is mounted once the views exist (startViews); until then the front door holds requests.
  const urls = new TorrentUrls({ host: announceHostOf(given), trackerPort: trackerHttp.port, httpPort: http.port })
  const store = new ResumeStore(given['state.dir'], (error) => {
    logger.log('error', 'cannot save the resume index', { error: error instanceof Error ? error.message : String(error) })
  })
  await store.open()
  started.add(new PublishedFeed({ ...publishedFeedOptionsFrom(given), catalog, origin: () => urls.lanOrigin, hostNames: () => ownHostNames(hostname(), ...urls.hosts) })).mount(http)
  const publicHost = started.add(new PublicHost({ setting: given['network.public_host'], ports: { tracker: trackerHttp.port, http: http.port, peer: seeder.port } }))
  publicHost.on('change', (endpoint) => {
    publicEndpoint = endpoint
    if (urls.setPublic(endpoint)) void retrack(catalog, urls, store, logger)
  })
  publicEndpoint = publicHost.endpoint
  urls.setPublic(publicEndpoint)
  await publicHost.start()
  // Started once the views listen (see startService): a router answers in milliseconds.
  const portMapper = started.add(new PortMapper(portMapperOptionsFrom(given, { peer: seeder.port, tracker: trackerHttp.port, http: http.port, dht: dht.snapshot().port })))
  portMapper.on('change', () => { publicHost.setRouter(portMapper.snapshot()) })

  const boxCatalog = await publishBoxCatalog(given, logger, started, { catalog, dht, urls, key })
  // Read before the first scan, so that a paused item is not published for a moment at start.
  const paused = new PausedItems(given['state.dir'])
  paused.on('warning', (error) => logger.log('warn', error.message, { code: error.code }))
  await paused.open()
  const libraries = await started.start(new Libraries(librariesOptionsFrom(given)))
  const publisher = started.add(new Publisher({
    ...publisherOptionsFrom(given),
    libraries: libraries.present,
    isAvailable: libraries.isAvailable,
    catalog,
    store,
    trackersFor: urls.trackersFor,
    createdBy: `evertorrent/${VERSION}`,
    paused
  }))
  const mirrors = started.add(new Mirrors({
    settings: given,
    catalog,
    trackersFor: urls.trackersFor,
    peerPort: seeder.port,
    peerId: makePeerId(),
    ...(dht.snapshot().enabled && { dht }),
    logger
  }))
  return { catalog, seeder, dht, tracker, trackerHttp, http, webSeed, store, libraries, publisher, urls, publicHost, portMapper, fit, key, boxCatalog, mirrors }
}

/**
 * The box's catalog as a torrent of its own, and the signed BEP 46 item in the DHT that points at it
 * (`identity.publish_catalog`): how another box follows this one by its public key alone. Without the
 * DHT nothing could find the pointer, so neither is made.
 */
async function publishBoxCatalog (settings: Settings, logger: Logger, started: Started, { catalog, dht, urls, key }: Pick<Engines, 'catalog' | 'dht' | 'urls' | 'key'>): Promise<BoxCatalog | undefined> {
  if (!settings['identity.publish_catalog'] || !dht.snapshot().enabled) return undefined
  const stateDir = settings['state.dir']
  const pointer = new CatalogPointer({
    dht,
    publicKey: key.publicKey,
    sign: key.sign,
    stateFile: join(stateDir, 'catalog-pointer.json'),
    republishMs: settings['identity.republish_interval'] * 1000
  })
  pointer.on('warning', (event) => logger.log('warn', event.message, { code: event.code }))
  pointer.on('put', ({ seq, infoHash, nodes }) => logger.log('info', 'catalog pointer put in the DHT', { seq, infohash: infoHash, nodes, public_key: key.publicKeyHex }))
  await started.start(pointer)
  const boxCatalog = new BoxCatalog({ catalog, publicKeyHex: key.publicKeyHex, folder: join(stateDir, 'catalog'), trackersFor: urls.trackersFor, createdBy: `evertorrent/${VERSION}` })
  boxCatalog.on('warning', (event) => logger.log('warn', event.message, { code: event.code }))
  boxCatalog.on('changed', ({ infoHash, listed, omitted }) => {
    logger.log(omitted > 0 ? 'warn' : 'info', 'catalog published', { infohash: infoHash, items: listed, ...(omitted > 0 && { omitted }), magnet: magnetUri(catalog.get(infoHash)!.metainfo) })
    pointer.point(infoHash)
  })
  return await started.start(boxCatalog)
}

/**
 * New URLs (the public host changed): every published torrent names them from now on, in what is
 * handed out at once and, one file at a time, in its .torrent in the state directory.
 */
async function retrack (catalog: Catalog, urls: TorrentUrls, store: ResumeStore, logger: Logger): Promise<void> {
  catalog.retrack(urls.trackersFor)
  for (const torrent of [...catalog.all()]) {
    // The box's catalog torrent has no .torrent in the state directory: it is made anew at each start.
    if (torrent.internal === true) continue
    try {
      await store.rewriteTorrent(torrent.metainfo.infoHash, encodeTorrentParts(torrent.metainfo))
    } catch (error) {
      logger.log('warn', 'cannot rewrite a .torrent in the state directory', { infohash: torrent.metainfo.infoHash, error: error instanceof Error ? error.message : String(error) })
    }
  }
}

/** The host URLs name this box by: IPv6 literals in brackets, {hostname} replaced. */
function announceHostOf (settings: Settings): string {
  return urlHost(settings['network.announce_host'].replaceAll('{hostname}', hostname()))
}

/** What one engine does when another speaks. */
function wireFlows ({ seeder, tracker, webSeed, libraries, publisher }: Engines, started: Started): void {
  // A leecher usually connects to the everseed by itself; give it a moment before connecting to it.
  const leecherDials = started.add(new DialQueue({ delayMs: LEECHER_DIAL_DELAY_MS, dial: (infoHash, peer) => { seeder.connectTo(infoHash, peer) } }))
  tracker.on('announce', (event) => {
    const address = event.peerAddress
    if (address === undefined || event.left === 0 || event.event === 'stopped' || !event.published) return
    leecherDials.add(event.infoHash, address)
  })
  // A file that no longer matches its torrent is noticed by whoever reads it first; republish it.
  seeder.on('torrent-error', () => { void publisher.rescan() })
  webSeed.on('fileError', () => { void publisher.rescan() })
  libraries.on('change', () => { void publisher.setLibraries(libraries.present) })
}

/** The views of what the engines do (logs, the status model, LED and button, the status page), and the commands. */
async function startViews (settings: Settings, logger: Logger, engines: Engines, status: StatusModel, started: Started): Promise<Views> {
  wireLogs(logger, engines, started)
  wireStatus(status, engines)
  const commands = commandsOf(engines, status, settings, logger)
  const hardware = new HardwareController({ status, settings, commands })
  hardware.on('warning', (error) => logger.log('warn', error.message, { code: error.code }))
  hardware.on('gesture', (gesture) => logger.log('info', 'button', { gesture }))
  await started.startLast(hardware)
  const eventLoopDelay = await started.start(new EventLoopDelay())
  const listenHost = settings['network.listen_host']
  const statusPage = started.add(registerStatusPage(engines.http, {
    ...statusPageOptionsFrom(settings),
    status,
    eventLoopDelay,
    catalog: engines.catalog,
    commands,
    led: hardware,
    version: VERSION,
    trackers: () => engines.urls.announceList.flat(),
    ...(listenHost !== '' && { addresses: () => [listenHost] }),
    hostNames: () => ownHostNames(hostname(), ...engines.urls.hosts),
    publicKey: engines.key.publicKeyHex,
    mirrors: () => engines.mirrors.snapshot()
  }))
  engines.http.mounted()
  statusPage.on('warning', ({ action, error }) => logger.log('warn', 'action failed', { action, error: error instanceof Error ? error.message : String(error) }))
  return { commands, hardware, statusPage }
}

function commandsOf ({ libraries, publisher }: Engines, status: StatusModel, settings: Settings, logger: Logger): Commands {
  return {
    rescan: async () => { await publisher.rescan() },
    eject: async () => {
      if (!libraries.watchesDrives) return
      const ejected = libraries.drives.map((drive) => drive.library)
      await libraries.eject()
      for (const library of ejected) status.driveEjected(library)
      status.setSafeToRemove()
    },
    ejectDrive: async (library) => {
      if (!libraries.watchesDrives) throw new Error('this box watches no drives (library.media_root is empty)')
      await libraries.ejectDrive(library)
      status.driveEjected(library)
    },
    pause: async (itemPath) => { await publisher.pause(itemPath) },
    resume: async (itemPath) => { await publisher.resume(itemPath) },
    shutdown: async () => {
      const [file, ...args] = settings['system.shutdown_command']
      logger.log('info', 'shutting down', { command: settings['system.shutdown_command'].join(' ') })
      await execFileAsync(file!, args, { timeout: 30_000 })
    }
  }
}

/** The engines and views a reload reaches, each through its `apply`. */
function liveTargets ({ seeder, tracker, trackerHttp, http, libraries, publisher, publicHost, fit }: Engines, { statusPage }: Views): LiveTarget[] {
  return [
    { apply: async (next) => { await publicHost.setSetting(next['network.public_host']) } },
    {
      apply: (next) => {
        const given = fit(next)
        seeder.apply(given)
        trackerHttp.apply(given)
        http.apply(given)
      }
    },
    tracker,
    statusPage,
    publisher,
    {
      apply: async (next) => {
        for (const folder of next['library.folders']) await ensureLibraryFolder(folder)
        libraries.apply(next)
      }
    }
  ]
}

function wireStatus (status: StatusModel, { publisher, seeder, tracker, webSeed, libraries, publicHost, portMapper, dht }: Engines): void {
  const showDht = ({ enabled, nodes, announced }: DhtSnapshot): void => { status.setDht({ enabled, nodes, announced }) }
  showDht(dht.snapshot())
  dht.on('change', showDht)
  status.setPublicHost(publicHost.endpoint?.host)
  publicHost.on('change', (endpoint) => { status.setPublicHost(endpoint?.host) })
  const showRouter = ({ state, method, externalAddress, error, mappings }: PortMapperSnapshot): void => {
    status.setRouter({ state, ...(method !== undefined && { method }), ...(externalAddress !== undefined && { externalAddress }), ...(error !== undefined && { error }), mappings })
  }
  showRouter(portMapper.snapshot())
  portMapper.on('change', showRouter)
  publisher.on('item', (item) => status.item(item))
  publisher.on('removed', (path) => status.itemRemoved(path))
  seeder.on('peer-connected', (event) => status.peers(event.infoHash, 1, event.encrypted))
  seeder.on('peer-disconnected', (event) => status.peers(event.infoHash, -1, event.encrypted))
  seeder.on('uploaded', (event) => status.uploaded(event.infoHash, event.bytes))
  webSeed.on('served', (event) => status.uploaded(event.infoHash, event.bytes))
  // Swarms of torrents not published here ("open" mode) are no item's business, and a flood of them must not become a flood of status entries.
  tracker.on('announce', (event) => { if (event.published) status.swarm(event.infoHash, event.swarm) })
  status.setLibraries(libraries.all)
  libraries.on('change', (all) => status.setLibraries(all))
}

function wireLogs (logger: Logger, { publisher, seeder, tracker, trackerHttp, http, webSeed, store, libraries, publicHost, urls, portMapper }: Engines, started: Started): void {
  publicHost.on('change', (endpoint) => {
    if (endpoint === undefined) logger.log('info', 'no public address: torrents name the LAN host only')
    else logger.log('info', 'public address', { host: endpoint.host, ip: endpoint.ip, peer_port: endpoint.peerPort, tracker_port: endpoint.trackerPort, http_port: endpoint.httpPort, announce: urls.announceList.flat().join(' ') })
  })
  publicHost.on('warning', (error) => logger.log('warn', error.message, { code: error.code }))
  const peerRefusals = started.add(new RefusalSummary(({ refused, address, reason }) => {
    logger.log('warn', 'peer connections refused', { refused, last_address: address, reason })
  }))
  seeder.on('peer-refused', ({ address, reason }) => {
    // Refusals by our own limits or encryption policy are worth a (summarised) line; hostile or confused peers are only counted (seeder stats).
    if (reason === 'address-limit' || reason === 'connection-limit' || reason === 'plaintext-refused' || reason === 'mse-no-method') peerRefusals.add(address, reason)
  })
  const httpRefusals = started.add(new RefusalSummary(({ refused, address, reason }) => {
    logger.log('warn', 'HTTP connections refused', { refused, last_address: address, reason })
  }))
  for (const server of [http, trackerHttp]) server.on('refused', (address, reason) => { httpRefusals.add(address, reason) })
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
  // The drives mounted, whenever they change (not when only the configured folders did).
  let drives = describeDrives(libraries.drives)
  libraries.on('change', () => {
    const now = describeDrives(libraries.drives)
    if (now === drives) return
    drives = now
    logger.log('info', 'drives changed', { drives })
  })
  libraries.on('warning', (message) => logger.log('warn', message))
  wirePortMapperLogs(logger, portMapper)
}

/** One line when the ports are mapped (again, or differently), one when no router answers, one when it refuses; none per retry or renewal. */
function wirePortMapperLogs (logger: Logger, portMapper: PortMapper): void {
  let logged = ''
  portMapper.on('change', (snapshot) => {
    const line = portMapperLogLine(snapshot)
    // A router that keeps refusing may word it differently each time: one line per state, but a new line when a mapping changes.
    const key = snapshot.state === 'mapped' ? JSON.stringify(line) : snapshot.state
    if (line === undefined || key === logged) return
    logged = key
    logger.log(line.level, line.msg, line.fields)
  })
}

function portMapperLogLine (snapshot: PortMapperSnapshot): { level: 'info' | 'warn', msg: string, fields: Record<string, string | undefined> } | undefined {
  switch (snapshot.state) {
    case 'mapped':
      return {
        level: 'info',
        msg: 'ports mapped on the router',
        fields: {
          method: snapshot.method,
          gateway: snapshot.gateway,
          external_address: snapshot.externalAddress,
          mappings: snapshot.mappings.map((mapping) => `${mapping.purpose}/${mapping.protocol}:${mapping.internalPort}->${mapping.externalPort}`).join(' '),
          refused: snapshot.error
        }
      }
    case 'no-gateway':
      return { level: 'info', msg: 'no router answered NAT-PMP or UPnP: reachable on the LAN only; asking the router again now and then', fields: {} }
    case 'failed':
      return { level: 'warn', msg: 'port mapping failed; asking the router again now and then', fields: { method: snapshot.method, gateway: snapshot.gateway, error: snapshot.error } }
    default:
      return undefined
  }
}

function describeDrives (drives: readonly Drive[]): string {
  return drives.map((drive) => `${drive.mountPoint}(${drive.fsType})`).join(' ')
}
