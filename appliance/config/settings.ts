import { readFile } from 'node:fs/promises'
import { homedir, hostname } from 'node:os'
import { join } from 'node:path'
import { parse, TomlError } from 'smol-toml'
import { mirrorEntriesFrom, mirrorFolderClash, type MirrorEntry } from './mirror-entries.js'

/** The world the defaults depend on; injected so tests and the appliance image can pin it. */
export interface SettingsEnvironment {
  readonly home: string
  readonly hostname: string
  readonly stateHome: string
}

export function defaultEnvironment (): SettingsEnvironment {
  const home = homedir()
  return { home, hostname: hostname(), stateHome: process.env.XDG_STATE_HOME ?? join(home, '.local', 'state') }
}

type Kind =
  | { readonly type: 'integer', readonly min: number, readonly max: number }
  | { readonly type: 'string', readonly allowEmpty?: boolean }
  | { readonly type: 'boolean' }
  | { readonly type: 'strings' }
  | { readonly type: 'choice', readonly values: readonly string[] }
  /** TOML's `[[mirror]]` tables (an array of tables, not a [section] key), see mirror-entries.ts. */
  | { readonly type: 'mirrors' }

interface Spec<T> {
  readonly kind: Kind
  readonly default: (env: SettingsEnvironment) => T
  readonly doc: string
  /** Set for a resource bound: what it bounds, in a few words, for the limits table (docs/limits.md). */
  readonly bound?: string
  /**
   * Set when a reload (SIGHUP) applies the setting to the running service, through its engine's
   * `apply(settings)`; any other setting takes effect at the next restart. test/config/live-keys.test.ts
   * changes each live setting in a running service and fails, naming it, if its engine shows no effect.
   */
  readonly live?: true
}

const port = { type: 'integer', min: 0, max: 65535 } as const
const count = (min: number, max: number): Kind => ({ type: 'integer', min, max })

/**
 * Every setting, once: its type, default and documentation. The config file, its validation, the
 * CLI overrides and `evertorrent print-config` all come from this table. Its entries share one shape
 * on purpose (a table of data, not code repeated): duplicate finders list them as alike.
 */
export const SETTINGS = {
  'library.folders': {
    kind: { type: 'strings' },
    default: (env) => [join(env.home, 'evertorrent')],
    live: true,
    doc: 'Folders whose top-level entries are published, one torrent each (a file: single-file torrent; a folder: multi-file torrent). Created if missing.'
  } satisfies Spec<string[]>,
  'library.media_root': {
    kind: { type: 'string', allowEmpty: true },
    default: () => '',
    doc: 'Folder under which USB drives are mounted (by the udev rule and mount helper); every drive mounted there is a library. Empty: no drives.'
  } satisfies Spec<string>,
  'library.publish_folder_only': {
    kind: { type: 'boolean' },
    default: () => false,
    doc: 'When a drive has a top-level "publish" folder, publish only its entries instead of the whole drive.'
  } satisfies Spec<boolean>,
  'library.eject_command': {
    kind: { type: 'strings' },
    default: () => ['umount', '{mountpoint}'],
    doc: 'Command run for each drive on eject (button or web page); {mountpoint} and {device} are replaced.'
  } satisfies Spec<string[]>,
  'library.rescan_interval': {
    kind: count(1, 86400),
    default: () => 60,
    live: true,
    doc: 'Seconds between rescans that notice changed files; new and removed entries are noticed at once. An item of many files is listed again at most every 2 ms per file it holds (100,000 files: every 200 s), so that rescans stay a small share of a slow CPU; the page\'s rescan action lists everything.'
  } satisfies Spec<number>,
  'library.settle_seconds': {
    kind: count(0, 3600),
    default: () => 10,
    live: true,
    doc: 'New or changed content is published only once none of its files has changed for this many seconds (and, where Linux lets the service see it, no process has one open for writing): a file being copied in is never published half-written. 0 publishes at once.'
  } satisfies Spec<number>,
  'library.max_files_per_item': {
    kind: count(1, 10_000_000),
    default: () => 1_000_000,
    bound: 'files listed in one library item',
    doc: 'An item (a top-level file or folder of a library) with more files than this is shown in error, not hashed: the service keeps every item\'s file list in memory, about 75 bytes per file plus twice the bytes of its path (measured: 100,000 files with 24-byte paths, 12 MB).'
  } satisfies Spec<number>,
  'state.dir': {
    kind: { type: 'string' },
    default: (env) => join(env.stateHome, 'evertorrent'),
    doc: 'Where .torrent files and the fast-resume index are kept.'
  } satisfies Spec<string>,
  'network.announce_host': {
    kind: { type: 'string' },
    default: (env) => env.hostname,
    doc: 'Host name or address written into announce and web seed URLs: the name clients use to reach this box. {hostname} is replaced by this machine\'s host name.'
  } satisfies Spec<string>,
  'network.public_host': {
    kind: { type: 'string', allowEmpty: true },
    default: () => 'auto',
    live: true,
    doc: 'How the internet reaches this box: a DNS name or an address (ports forwarded by hand or mapped), or "auto" for the external address the router reports through port mapping (none while nothing is mapped, or when that address is itself private, as behind a carrier\'s NAT). Torrents then name this host too (announce tiers and web seeds after the LAN ones) and peers from outside the LAN are handed it as the everseed\'s address. Changing it rewrites .torrent files and magnet links, never infohashes. Empty: LAN only.'
  } satisfies Spec<string>,
  'network.listen_host': {
    kind: { type: 'string', allowEmpty: true },
    default: () => '',
    doc: 'Address the HTTP server, the tracker and the peer port listen on; empty means every IPv4 and IPv6 address.'
  } satisfies Spec<string>,
  'network.port_mapping': {
    kind: { type: 'choice', values: ['auto', 'off'] },
    default: () => 'auto',
    doc: 'auto: map the peer port (TCP) and the tracker port (TCP and UDP) on the router by NAT-PMP or UPnP-IGD, renew them, remove them on stop, and learn the router\'s external address; without a router the box works on the LAN as before. off: send nothing to the router. Nothing is mapped while the service listens on a loopback address only.'
  } satisfies Spec<string>,
  'network.map_http_port': {
    kind: { type: 'boolean' },
    default: () => false,
    doc: 'Also map the HTTP port (status page, web seeds, .torrent downloads) on the router, which opens the status page to the internet.'
  } satisfies Spec<boolean>,
  'network.port_mapping_lease': {
    kind: count(120, 86400),
    default: () => 3600,
    doc: 'Seconds of lease asked for each port mapping; renewed at half of what the router grants, so a mapping left behind by a box switched off ends within this long.'
  } satisfies Spec<number>,
  'http.port': {
    kind: port,
    default: () => 8080,
    doc: 'HTTP port: status page, web seeds (BEP 19), .torrent downloads and the HTTP tracker at /announce.'
  } satisfies Spec<number>,
  'http.max_connections': {
    kind: count(16, 1_000_000),
    default: () => 512,
    live: true,
    doc: 'HTTP connections at most (status pages, web seeds, .torrent downloads, HTTP and WebSocket announces), over the HTTP port and the tracker port together; more are closed at once.',
    bound: 'HTTP and WebSocket connections, both HTTP ports together'
  } satisfies Spec<number>,
  'http.max_connections_per_address': {
    kind: count(1, 100_000),
    default: () => 32,
    live: true,
    doc: 'HTTP connections from one IP address at most (a browser opens about 6); more are closed at once, so one host cannot take every connection.',
    bound: 'HTTP and WebSocket connections from one address'
  } satisfies Spec<number>,
  'http.idle_seconds': {
    kind: count(1, 3600),
    default: () => 5,
    live: true,
    doc: 'A keep-alive connection with no request for this long is closed.',
    bound: 'idle keep-alive HTTP connection'
  } satisfies Spec<number>,
  'http.headers_seconds': {
    kind: count(1, 3600),
    default: () => 10,
    live: true,
    doc: 'A request\'s headers must have arrived this long after the connection opened or the previous response ended; a connection that sends nothing is closed after it too.',
    bound: 'time to send request headers'
  } satisfies Spec<number>,
  'http.max_header_bytes': {
    kind: count(1024, 65536),
    default: () => 8192,
    doc: 'Bytes of request line and headers at most; a larger request gets 431 and is closed.',
    bound: 'request line and headers'
  } satisfies Spec<number>,
  'http.max_event_streams': {
    kind: count(1, 10_000),
    default: () => 64,
    live: true,
    doc: 'Live status streams (/api/events, one per open status page) at most.',
    bound: 'open status pages (server-sent event streams)'
  } satisfies Spec<number>,
  'http.event_streams_per_address': {
    kind: count(1, 10_000),
    default: () => 4,
    live: true,
    doc: 'Live status streams from one IP address at most, so one client cannot lock every other page out.',
    bound: 'open status pages from one address'
  } satisfies Spec<number>,
  'tracker.port': {
    kind: port,
    default: () => 6969,
    doc: 'Tracker port for UDP announces (BEP 15) and HTTP/WebSocket announces.'
  } satisfies Spec<number>,
  'tracker.mode': {
    kind: { type: 'choice', values: ['published-only', 'open'] },
    default: () => 'published-only',
    live: true,
    doc: '"published-only" tracks only torrents this box publishes (like a whitelist); "open" tracks any torrent.'
  } satisfies Spec<string>,
  'tracker.max_swarms': {
    kind: count(1, 1_000_000),
    default: () => 1000,
    live: true,
    doc: 'In "open" mode, swarms of torrents this box does not publish at most; beyond it the swarm announced to least recently is dropped. Published torrents always have their swarm.',
    bound: 'swarms of torrents not published here ("open" mode)'
  } satisfies Spec<number>,
  'tracker.max_peers': {
    kind: count(100, 10_000_000),
    default: () => 200_000,
    live: true,
    doc: 'Peers held by the tracker at most, over all swarms (an HTTP or UDP peer takes 50 to 120 bytes, so 200,000 take at most 24 MB); beyond it the least recently announced swarm of a torrent this box does not publish is dropped.',
    bound: 'peers in all swarms'
  } satisfies Spec<number>,
  'tracker.max_peers_per_swarm': {
    kind: count(10, 1_000_000),
    default: () => 100_000,
    doc: 'Peers held per swarm at most; beyond it the peer announced least recently is dropped. HTTP and UDP peers are packed (address, peer id, seed flag, time, index: about 60 bytes each), and a swarm never takes more than 150 bytes per peer of this cap (15 MB at 100,000); WebSocket peers are bounded by http.max_connections as well.',
    bound: 'peers in one swarm'
  } satisfies Spec<number>,
  'tracker.udp_receive_buffer_bytes': {
    kind: count(65_536, 64 * 1024 * 1024),
    default: () => 4 * 1024 * 1024,
    doc: 'Receive buffer of each UDP tracker socket (SO_RCVBUF), so that a burst of announces waits in the kernel while a garbage collection runs instead of being dropped; the kernel grants at most net.core.rmem_max.',
    bound: 'queued UDP tracker requests per socket'
  } satisfies Spec<number>,
  'tracker.max_ws_frame_bytes': {
    kind: count(1024, 16 * 1024 * 1024),
    default: () => 32 * 1024,
    doc: 'Bytes of one WebSocket tracker message at most (a WebTorrent announce carries up to 10 WebRTC offers of 1-2 KB); a larger frame closes the connection before it is buffered.',
    bound: 'one WebSocket tracker message'
  } satisfies Spec<number>,
  'tracker.ws_idle_seconds': {
    kind: count(10, 86400),
    default: () => 900,
    live: true,
    doc: 'A WebSocket tracker connection that sends no message for this long is closed (clients announce every 600 s).',
    bound: 'idle WebSocket tracker connection'
  } satisfies Spec<number>,
  'seeder.port': {
    kind: port,
    default: () => 6881,
    doc: 'TCP port the everseed accepts BitTorrent peers on, for every torrent.'
  } satisfies Spec<number>,
  'seeder.upload_slots': {
    kind: count(1, 1000),
    default: () => 8,
    live: true,
    doc: 'Peers uploaded to at the same time; the choker rotates the slots among interested peers.'
  } satisfies Spec<number>,
  'seeder.max_connections': {
    kind: count(1, 100000),
    default: () => 200,
    live: true,
    doc: 'Peer connections at most, over all torrents, incoming and outgoing, handshaking or not.',
    bound: 'peer connections, all torrents'
  } satisfies Spec<number>,
  'seeder.max_connections_per_torrent': {
    kind: count(1, 100000),
    default: () => 50,
    live: true,
    doc: 'Peer connections of one torrent at most. When it is full, a newcomer takes the place of a peer that has asked for nothing for a while.',
    bound: 'peer connections of one torrent'
  } satisfies Spec<number>,
  'seeder.max_connections_per_address': {
    kind: count(1, 100000),
    default: () => 8,
    live: true,
    doc: 'Peer connections from one IP address at most, over all torrents (several clients behind one NAT still fit); more are closed at once.',
    bound: 'peer connections from one address'
  } satisfies Spec<number>,
  'seeder.handshake_seconds': {
    kind: count(1, 600),
    default: () => 10,
    live: true,
    doc: 'A peer must complete the BitTorrent handshake, and the encryption handshake before it, this soon after connecting.',
    bound: 'time to complete the peer handshake'
  } satisfies Spec<number>,
  'seeder.encryption': {
    kind: { type: 'choice', values: ['prefer', 'require', 'off'] },
    default: () => 'prefer',
    doc: 'Message stream encryption (MSE/PE) with peers. "prefer": encrypted and plaintext peers are accepted, and peers the everseed dials are asked for RC4 first, then dialled again in plaintext if that fails; "require": only peers that encrypt with RC4, both ways; "off": plaintext only, an encrypted handshake is refused.'
  } satisfies Spec<string>,
  'seeder.idle_seconds': {
    kind: count(30, 3600),
    default: () => 180,
    live: true,
    doc: 'A peer that sends nothing for this long is disconnected (peers send a keep-alive every 2 minutes).',
    bound: 'silent peer connection'
  } satisfies Spec<number>,
  'seeder.stall_seconds': {
    kind: count(1, 600),
    default: () => 5,
    doc: 'A peer that reads none of the blocks queued for it for this long loses its upload slot to the next peer.',
    bound: 'peer not reading what it asked for, until it loses its upload slot'
  } satisfies Spec<number>,
  'seeder.stall_disconnect_seconds': {
    kind: count(1, 3600),
    default: () => 20,
    doc: 'A peer that reads none of the blocks queued for it for this long is disconnected, and the memory of its blocks goes back to the others.',
    bound: 'peer not reading what it asked for, until it is disconnected'
  } satisfies Spec<number>,
  'seeder.upload_rate_limit': {
    kind: count(0, 2 ** 40),
    default: () => 0,
    live: true,
    doc: 'Total upload limit in bytes per second; 0 means unlimited.'
  } satisfies Spec<number>,
  'seeder.peer_upload_rate_limit': {
    kind: count(0, 2 ** 40),
    default: () => 0,
    live: true,
    doc: 'Upload limit per peer in bytes per second; 0 means unlimited.'
  } satisfies Spec<number>,
  'seeder.max_requests_per_peer': {
    kind: count(1, 10000),
    default: () => 500,
    live: true,
    doc: 'Block requests a peer may have outstanding; more are rejected, and a flood ends the connection.',
    bound: 'outstanding block requests of one peer'
  } satisfies Spec<number>,
  'seeder.cache_size': {
    kind: count(0, 2 ** 32),
    default: () => 8 * 1024 * 1024,
    doc: 'Bytes of the read cache shared by all torrents.',
    bound: 'read-ahead cache, all torrents'
  } satisfies Spec<number>,
  'seeder.block_pool_size': {
    kind: count(64 * 1024, 2 ** 32),
    default: () => 4 * 1024 * 1024,
    doc: 'Bytes of blocks being read or waiting on peer sockets, over all peers; no block is started beyond it until a socket has written one.',
    bound: 'blocks being read or queued on peer sockets'
  } satisfies Spec<number>,
  'seeder.max_open_files': {
    kind: count(1, 10000),
    default: () => 32,
    doc: 'Content files the seeder keeps open at most.',
    bound: 'open content files (seeder)'
  } satisfies Spec<number>,
  'seeder.local_discovery': {
    kind: { type: 'boolean' },
    default: () => true,
    doc: 'Announce torrents on the LAN by local service discovery (BEP 14).'
  } satisfies Spec<boolean>,
  'seeder.pex': {
    kind: { type: 'boolean' },
    default: () => true,
    doc: 'Peer exchange (BEP 11, ut_pex): tell the peers of each public torrent about each other, at most once a minute each, so they trade among themselves and not only with the box.'
  } satisfies Spec<boolean>,
  'dht.enabled': {
    kind: { type: 'boolean' },
    default: () => true,
    doc: 'Take part in the mainline DHT (BEP 5): announce every published torrent there, so a magnet link with nothing but its infohash finds the everseed. Off: no DHT socket at all.'
  } satisfies Spec<boolean>,
  'dht.port': {
    kind: port,
    default: () => 0,
    doc: 'UDP port of the DHT; 0 means the same number as the seeder\'s peer port (TCP), as BitTorrent clients do, so one port number (TCP and UDP) is all a router or firewall needs to open.'
  } satisfies Spec<number>,
  'dht.bootstrap': {
    kind: { type: 'strings' },
    default: () => ['router.bittorrent.com:6881', 'router.utorrent.com:6881', 'dht.transmissionbt.com:6881', 'dht.libtorrent.org:25401'],
    doc: 'DHT nodes (host:port) asked first to join the DHT, when the routing table saved in the state folder is empty or gone stale.'
  } satisfies Spec<string[]>,
  'dht.announce_interval': {
    kind: count(60, 1800),
    default: () => 900,
    doc: 'Seconds between announces of a published torrent to the DHT. DHT nodes forget a peer that has not announced again within 30 minutes (libtorrent keeps one up to 45); 900 is libtorrent\'s own interval.'
  } satisfies Spec<number>,
  'dht.max_peers': {
    kind: count(1, 1_000_000),
    default: () => 500,
    doc: 'Peers the DHT node stores for other nodes\' torrents (their announce_peer): when this many have come since the last turn, the older turn is forgotten, so it holds up to twice this. Each takes up to 2 KB (one peer of an infohash of its own; measured), so 500 cost 2 MB at most.',
    bound: 'peers stored for other DHT nodes'
  } satisfies Spec<number>,
  'dht.max_lookups': {
    kind: count(1, 100_000),
    default: () => 16,
    doc: 'Results of DHT lookups kept at most (the nodes nearest an infohash, with the tokens an announce needs to them, about 25 KB each), for 5 minutes each; an announce needs its own for a moment only, and four run at once.',
    bound: 'DHT lookup results kept'
  } satisfies Spec<number>,
  'dht.max_items': {
    kind: count(1, 100_000),
    default: () => 500,
    doc: 'BEP 44 items (other boxes\' signed catalog pointers, BEP 46, and other data) the DHT node stores for other nodes, least recently used first out. One takes 2.5 KB with a value near the 1,000 bytes allowed (measured), up to 5 KB if it keeps the whole datagram it came in (4 KB at most), so 500 cost 2.5 MB at most.',
    bound: 'BEP 44 items stored for other DHT nodes'
  } satisfies Spec<number>,
  'identity.publish_catalog': {
    kind: { type: 'boolean' },
    default: () => true,
    doc: 'Publish the box\'s catalog (the infohash, name and size of every published torrent) as a small torrent of its own, and point to it from the DHT with a BEP 46 item signed by the box\'s key (identity.key in the state folder), so that another box can follow this one by its public key alone. Needs dht.enabled; the public key is on the status page.'
  } satisfies Spec<boolean>,
  'identity.republish_interval': {
    kind: count(300, 5400),
    default: () => 3600,
    doc: 'Seconds between puts of the catalog pointer to the DHT when the catalog has not changed (it is put at once when it changes). BEP 44: nodes may forget an item 2 hours after its last put, and publishers should put it again once an hour. A box following another by its public key ([[mirror]]) puts that box\'s pointer again as often, unchanged (BEP 46), so it stays findable while the other box is off.'
  } satisfies Spec<number>,
  'leds.driver': {
    kind: { type: 'choice', values: ['virtual', 'sysfs-led', 'gpio-sysfs', 'gpio-cdev'] },
    default: () => 'virtual',
    doc: 'How the status LED is driven: "virtual" (no LED; the status page shows it), "sysfs-led" (a kernel LED: the gpio-led overlay or the Pi\'s ACT/PWR), "gpio-cdev" (a GPIO line held by libgpiod v2\'s gpioset), "gpio-sysfs" (a GPIO line through the deprecated /sys/class/gpio). See docs/hardware.md.'
  } satisfies Spec<string>,
  'leds.device': {
    kind: { type: 'string' },
    default: () => 'evertorrent',
    doc: 'The status LED: for sysfs-led its name under /sys/class/leds (the gpio-led overlay\'s label, or ACT, PWR; led0/led1 on older kernels); for the GPIO drivers its line: a BCM number (17), a line name (GPIO17), or for gpio-cdev chip:offset (gpiochip0:17).'
  } satisfies Spec<string>,
  'leds.active_low': {
    kind: { type: 'boolean' },
    default: () => false,
    doc: 'GPIO drivers: the LED lights when the line is low (wired from 3.3 V through the LED to the pin).'
  } satisfies Spec<boolean>,
  'buttons.driver': {
    kind: { type: 'choice', values: ['none', 'input', 'gpio-sysfs', 'gpio-cdev'] },
    default: () => 'none',
    doc: 'How the button is read: "none", "input" (a key on a Linux input device, from the gpio-key overlay), "gpio-cdev" (a GPIO line watched by libgpiod v2\'s gpiomon), "gpio-sysfs" (a GPIO line polled through /sys/class/gpio).'
  } satisfies Spec<string>,
  'buttons.device': {
    kind: { type: 'string' },
    default: () => '/dev/input/by-path/platform-button@1b-event',
    doc: 'The button: for input its event device (the gpio-key overlay on GPIO27 makes /dev/input/by-path/platform-button@1b-event, the GPIO number in hex); for the GPIO drivers its line, as for leds.device.'
  } satisfies Spec<string>,
  'buttons.keycode': {
    kind: count(0, 767),
    default: () => 148,
    doc: 'input: the key code the button sends (the gpio-key overlay\'s keycode=); 148 is KEY_PROG1, which nothing else acts on — not 116 (KEY_POWER), which systemd-logind turns into an immediate power-off. 0 accepts any key.'
  } satisfies Spec<number>,
  'buttons.active_low': {
    kind: { type: 'boolean' },
    default: () => true,
    doc: 'GPIO drivers: pressed when the line is low (a button to ground; gpio-cdev turns the pull-up on, for gpio-sysfs set it in config.txt: gpio=27=ip,pu).'
  } satisfies Spec<boolean>,
  'buttons.long_press_ms': {
    kind: count(500, 60000),
    default: () => 2000,
    doc: 'A press this long or longer ejects the drives (a shorter one rescans); the LED changes when it is reached, so the person knows to let go.'
  } satisfies Spec<number>,
  'buttons.very_long_press_ms': {
    kind: count(1000, 120000),
    default: () => 8000,
    doc: 'A press this long or longer shuts the box down cleanly; must be longer than buttons.long_press_ms.'
  } satisfies Spec<number>,
  'system.shutdown_command': {
    kind: { type: 'strings' },
    default: () => ['systemctl', 'poweroff'],
    doc: 'Command run for a clean shutdown (the button\'s very long press); the service stops itself first through systemd.'
  } satisfies Spec<string[]>,
  'system.fd_reserve': {
    kind: count(16, 100000),
    default: () => 256,
    doc: 'File descriptors kept free for the library scan, hashing and state writes: connection limits are lowered at start when they would leave fewer than this under the open-files limit (which the service raises to its hard limit).',
    bound: 'file descriptors never given to connections'
  } satisfies Spec<number>,
  'web.admin_token': {
    kind: { type: 'string', allowEmpty: true },
    default: () => '',
    live: true,
    doc: 'Turns on the status page\'s actions (rescan, eject, pause and resume): they need "Authorization: Bearer <this token>". Empty: actions off. Reading the status needs no token. Use a long random string (openssl rand -hex 16).'
  } satisfies Spec<string>,
  'web.feed_max_items': {
    kind: count(1, 1000),
    default: () => 50,
    doc: 'Items in the feeds of what the box publishes (/feed.xml, RSS 2.0; /feed.json, JSON Feed 1.1): the newest this many. 50 is what qBittorrent keeps of a feed by default.',
    bound: 'items in /feed.xml and /feed.json'
  } satisfies Spec<number>,
  'download.max_peers': {
    kind: count(1, 1000),
    default: () => 30,
    doc: 'Peer connections of one download (a mirror fetching an item) at once.',
    bound: 'peer connections of one download'
  } satisfies Spec<number>,
  'download.max_metadata_bytes': {
    kind: count(16 * 1024, 64 * 1024 * 1024),
    default: () => 8 * 1024 * 1024,
    doc: 'Largest info dictionary a download accepts from peers (BEP 9 metadata_size); a larger one is refused.',
    bound: 'info dictionary fetched from peers'
  } satisfies Spec<number>,
  'download.max_requests_per_peer': {
    kind: count(1, 1000),
    default: () => 64,
    doc: 'Block requests (16 KiB each) a download keeps out to one peer.',
    bound: 'block requests out to one peer (download)'
  } satisfies Spec<number>,
  'download.max_active_pieces': {
    kind: count(1, 1000),
    default: () => 16,
    doc: 'Pieces a download has started and not yet verified, at most (each is read back once to check its hash).',
    bound: 'pieces being downloaded and not yet verified'
  } satisfies Spec<number>,
  'hashing.threads': {
    kind: count(0, 256),
    default: () => 0,
    doc: 'Threads that hash new content; 0 means one per core.'
  } satisfies Spec<number>,
  'hashing.format': {
    // metainfo's TorrentFormat; config imports nothing of metainfo (docs/architecture.md).
    kind: { type: 'choice', values: ['v1', 'hybrid', 'v2'] },
    default: (): 'v1' | 'hybrid' | 'v2' => 'v1',
    doc: 'The torrents made of new content: "v1" (BEP 3, every client reads it), "hybrid" (v1 and BEP 52 v2 in one torrent: SHA-1 pieces and per-file SHA-256 merkle trees, files aligned on pieces with BEP 47 pad files, as libtorrent 2 and qBittorrent make them) or "v2" (BEP 52 only: v1-only clients such as transmission 3 and aria2 cannot use it). `evertorrent create --format` makes all three. The everseed speaks both wires: hybrid torrents to v1 peers (pad bytes as zeros) and to v2 peers, v2 torrents to v2 peers (the BEP 52 handshake bit, hash requests answered from the piece layers). Mirrors cannot follow a v2-only item (the download engine verifies SHA-1 pieces). The default stays "v1" until measurements say hybrid costs nothing that matters.'
  } satisfies Spec<'v1' | 'hybrid' | 'v2'>,
  mirror: {
    kind: { type: 'mirrors' },
    default: (): MirrorEntry[] => [],
    doc: 'Other evertorrent boxes this one follows and everseeds, one [[mirror]] table each: public_key = "<64 hex digits>" (the box\'s status page shows it; its catalog is found in the DHT) or feed = "http://<box>/feed.json" (followed over HTTP, without the DHT); folder = "/absolute/path" where its items are kept (created if missing; not inside a library folder, the media root, whose drives are published whole, or the state directory); max_bytes = the most its items may take (0: no limit; over it, the oldest go first); keep_days = how long an item the box no longer publishes is kept (default 30); poll_seconds = how often the box is asked what it publishes (default 600, at least 10).'
  } satisfies Spec<MirrorEntry[]>
} as const

export type SettingKey = keyof typeof SETTINGS
type ValueOf<K extends SettingKey> = ReturnType<(typeof SETTINGS)[K]['default']>
export type Settings = { readonly [K in SettingKey]: ValueOf<K> }

/** A config problem, with the file and key it is about and what was expected. */
export class ConfigError extends Error {
  readonly code = 'ET_CONFIG'

  constructor (message: string, readonly file?: string, readonly key?: string) {
    super(message)
    this.name = 'ConfigError'
  }
}

export function defaultSettings (env: SettingsEnvironment = defaultEnvironment()): Settings {
  return Object.fromEntries(Object.entries(SETTINGS).map(([key, spec]) => [key, spec.default(env)])) as unknown as Settings
}

/** Reads a TOML config file over the defaults; every key is checked, an unknown one is an error. */
export async function loadSettings (file: string | undefined, env: SettingsEnvironment = defaultEnvironment()): Promise<Settings> {
  if (file === undefined) return defaultSettings(env)
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    throw new ConfigError(`${file}: cannot read the config file (${(error as NodeJS.ErrnoException).code ?? String(error)})`, file)
  }
  return settingsFromToml(text, file, env)
}

export function settingsFromToml (text: string, file: string, env: SettingsEnvironment = defaultEnvironment()): Settings {
  let document: Record<string, unknown>
  try {
    document = parse(text)
  } catch (error) {
    const where = error instanceof TomlError ? ` at line ${error.line}, column ${error.column}` : ''
    throw new ConfigError(`${file}${where}: not valid TOML (${error instanceof Error ? error.message.split('\n')[0] : String(error)})`, file)
  }
  const values: Partial<Record<SettingKey, unknown>> = {}
  for (const [section, table] of Object.entries(document)) {
    if (section in SETTINGS && SETTINGS[section as SettingKey].kind.type === 'mirrors') {
      values[section as SettingKey] = table
      continue
    }
    if (typeof table !== 'object' || table === null || Array.isArray(table)) throw topLevelKeyError(section, file)
    for (const [name, value] of Object.entries(table)) values[`${section}.${name}` as SettingKey] = value
  }
  return withOverrides(defaultSettings(env), values, file)
}

/** Applies `values` (from a file or from command-line flags) after checking each against its spec. */
export function withOverrides (base: Settings, values: Partial<Record<string, unknown>>, source: string): Settings {
  const result: Record<string, unknown> = { ...base }
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined) continue
    if (!(key in SETTINGS)) throw new ConfigError(`${source}: unknown key "${key}"${suggestion(key, Object.keys(SETTINGS))}`, source, key)
    result[key] = checkValue(key as SettingKey, value, source)
  }
  const settings = result as unknown as Settings
  const clash = mirrorFolderClash(settings.mirror, [
    ...settings['library.folders'].map((folder) => ({ name: 'the library folder', folder })),
    { name: 'the media root', folder: settings['library.media_root'] },
    { name: 'the state directory', folder: settings['state.dir'] }
  ])
  if (clash !== undefined) throw new ConfigError(`${source}: ${clash}`, source, 'mirror')
  return settings
}

function checkValue (key: SettingKey, value: unknown, source: string): unknown {
  const kind: Kind = SETTINGS[key].kind
  const fail = (expected: string): never => {
    throw new ConfigError(`${source}: key "${key}" must be ${expected}, not ${JSON.stringify(value)}`, source, key)
  }
  switch (kind.type) {
    case 'integer': {
      const number = typeof value === 'bigint' ? Number(value) : value
      if (typeof number !== 'number' || !Number.isSafeInteger(number) || number < kind.min || number > kind.max) fail(`a whole number from ${kind.min} to ${kind.max}`)
      return number
    }
    case 'string':
      if (typeof value !== 'string' || (value === '' && kind.allowEmpty !== true)) fail(kind.allowEmpty === true ? 'a string' : 'a non-empty string')
      return value
    case 'boolean':
      if (typeof value !== 'boolean') fail('true or false')
      return value
    case 'strings':
      if (!Array.isArray(value) || value.some((item) => typeof item !== 'string' || item === '')) fail('a list of non-empty strings')
      return value
    case 'choice':
      if (typeof value !== 'string' || !kind.values.includes(value)) fail(`one of ${kind.values.map((v) => `"${v}"`).join(', ')}`)
      return value
    case 'mirrors':
      return mirrorEntriesFrom(value, (message) => { throw new ConfigError(`${source}: ${message}`, source, key) })
  }
}

/**
 * A key = value outside any table. Every setting is in a table, but a newcomer writes `http_port = 9000`
 * or `upload_slots = 4` at the top: name the table the setting is in.
 */
function topLevelKeyError (key: string, file: string): ConfigError {
  if (sectionNames().includes(key)) return new ConfigError(`${file}: "${key}" must be a [${key}] table`, file, key)
  const settings = Object.keys(SETTINGS)
  const flattened = new Map(settings.map((setting) => [setting.replace('.', '_'), setting]))
  const sameName = settings.filter((setting) => setting.split('.')[1] === key)
  // `seeder.upload_slots` quoted, `seeder_upload_slots`, `upload_slots`, or a typo of `seeder_upload_slots`.
  const meant = settings.find((setting) => setting === key) ?? flattened.get(key) ??
    (sameName.length === 1 ? sameName[0] : undefined) ??
    (sameName.length === 0 ? flattened.get(closest(key, [...flattened.keys()]) ?? '') : undefined)
  const section = closest(key, sectionNames())
  const [table, name] = meant?.split('.') ?? []
  const hint = meant !== undefined
    ? name === key ? ` — it belongs in the [${table}] table` : ` — did you mean "${name}" in the [${table}] table?`
    : sameName.length > 1
      ? ` — "${key}" is a setting of the tables ${sameName.map((setting) => `[${setting.split('.')[0]}]`).join(', ')}: put it under the one you mean`
      : section !== undefined ? ` — did you mean the [${section}] table?` : ': every setting is in a table (evertorrent print-config shows them all)'
  return new ConfigError(`${file}: "${key}" is not a setting at the top level${hint}`, file, key)
}

function sectionNames (): string[] {
  return [...new Set(Object.keys(SETTINGS).map((key) => key.split('.')[0]!))]
}

function suggestion (name: string, candidates: readonly string[]): string {
  const best = closest(name, candidates)
  return best === undefined ? '' : ` — did you mean "${best}"?`
}

/** The candidate nearest to `name` by edit distance, if it is near enough to be a typo of it. */
function closest (name: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined
  let bestDistance = Infinity
  for (const candidate of candidates) {
    const distance = editDistance(name, candidate)
    if (distance < bestDistance) {
      best = candidate
      bestDistance = distance
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined
}

function editDistance (a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    previous = current
  }
  return previous[b.length]!
}
