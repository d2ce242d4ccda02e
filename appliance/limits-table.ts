import { ANNOUNCE_CONCURRENCY, ANNOUNCE_SPACING_MS } from './dht/dht.js'
import { MAX_SUSPECTS } from './download/download.js'
import { DEFAULT_DOWNLOAD_LIMITS as DOWNLOAD } from './download/download-limits.js'
import { MAX_INCOMING_MESSAGE } from './download/peer-link.js'
import { READ_CHUNK } from './download/piece-store.js'
import { MAX_SAVED_NODES, MAX_STATE_BYTES } from './dht/dht-state.js'
import { MAX_KRPC_DATAGRAM } from './dht/krpc-message.js'
import { MAX_GET_REPLIES } from './dht/resolve-catalog-pointer.js'
import { MAX_VALUE_BYTES } from './dht/mutable-item.js'
import { MAX_SEEN_POINTERS } from './dht/seen-pointers.js'
import { CATALOG_REBUILD_MS } from './identity/box-catalog.js'
import { MAX_CATALOG_BYTES, MAX_CATALOG_ITEMS, MAX_CATALOG_NAME } from './identity/catalog-document.js'
import { RELIST_MS_PER_FILE } from './library/publisher.js'
import { MAX_PENDING_DIALS } from './seeder/dial-queue.js'
import { MAX_DATAGRAM } from './seeder/lsd-message.js'
import { HASH_TREE_CACHE_BYTES } from './seeder/hash-answerer.js'
import { MAX_HASHES_PER_REQUEST } from './seeder/hash-request.js'
import { MAX_MESSAGE_LENGTH } from './seeder/message-framer.js'
import { MAX_HASH_ANSWERS_PER_PEER, MAX_READS_PER_PEER, RECENT_PIECES_PER_PEER, MAX_SEND_BUFFER_BYTES, SEND_BUFFER_BYTES } from './seeder/peer-session.js'
import { MAX_HALF_OPEN } from './seeder/seeder.js'
import { PEX_INTERVAL_MS } from './seeder/pex-feed.js'
import { MAX_PEX_ADDED, MAX_PEX_DROPPED } from './seeder/pex-message.js'
import { REPLACE_AFTER_MS } from './seeder/replacement.js'
import { defaultSettings, SETTINGS, type SettingKey, type SettingsEnvironment } from './config/settings.js'
import { MAX_MIRRORS, MIN_POLL_SECONDS } from './config/mirror-entries.js'
import { MAX_DHT_PEERS } from './mirror/catalog-source.js'
import { MAX_REFUSALS_REMEMBERED, MIRROR_PEERS_EVERY_MS, MIRROR_STALL_MS } from './mirror/follower.js'
import { MAX_MIRROR_FEED_BYTES, MAX_MIRROR_ITEMS, MAX_MIRROR_TORRENT_BYTES } from './mirror/mirrors.js'
import { MAX_STATE_ITEMS } from './mirror/mirror-state.js'
import { MAX_TRACKER_PEERS } from './mirror/tracker-peers.js'
import { MAX_SCRAPE_HASHES } from './tracker/udp-protocol.js'
import { MAX_FEED_RENDERINGS } from './web/feed/published-feed.js'
import { REQUEST_SECONDS } from './web/http-server.js'
import { MAX_BODY_BYTES } from './web/status-actions.js'
import { MAX_BUFFERED_BYTES } from './web/status-events.js'

/** A bound fixed in the code (a protocol's own size, or one not worth a setting), with where it lives. */
interface FixedLimit {
  readonly bound: string
  readonly value: string
  readonly where: string
}

const KiB = 1024

const FIXED_LIMITS: readonly FixedLimit[] = [
  { bound: 'time between two listings of a published item by periodic rescans, per file it holds (100,000 files: every 200 s; `library.rescan_interval` is the shortest; a rescan asked for lists everything)', value: `${RELIST_MS_PER_FILE} ms`, where: 'library/publisher.ts' },
  { bound: 'other boxes followed (`[[mirror]]` tables in the config)', value: String(MAX_MIRRORS), where: 'config/mirror-entries.ts' },
  { bound: 'time between two polls of a followed box, at least (`poll_seconds` of a `[[mirror]]`, default 600)', value: `${MIN_POLL_SECONDS} s`, where: 'config/mirror-entries.ts' },
  { bound: 'a followed box\'s feed (a larger one is refused; a failed poll, tried again)', value: bytes(MAX_MIRROR_FEED_BYTES), where: 'mirror/mirrors.ts' },
  { bound: 'one .torrent of a followed box\'s feed', value: bytes(MAX_MIRROR_TORRENT_BYTES), where: 'mirror/mirrors.ts' },
  { bound: 'items taken from one followed box\'s feed or catalog', value: MAX_MIRROR_ITEMS.toLocaleString('en-US'), where: 'mirror/mirrors.ts' },
  { bound: 'items a mirror\'s state file may list (a longer one is refused)', value: MAX_STATE_ITEMS.toLocaleString('en-US'), where: 'mirror/mirror-state.ts' },
  { bound: 'downloads at once per mirror', value: '1', where: 'mirror/follower.ts' },
  { bound: 'time a mirror\'s download may verify nothing new before it is stopped (kept for resuming) and the next item tried', value: `${MIRROR_STALL_MS / 60_000} min`, where: 'mirror/follower.ts' },
  { bound: 'time between two asks for a mirror download\'s peers (its trackers or the DHT)', value: `${MIRROR_PEERS_EVERY_MS / 1000} s`, where: 'mirror/follower.ts' },
  { bound: 'refused feed or catalog entries a mirror remembers, each logged and counted once', value: MAX_REFUSALS_REMEMBERED.toLocaleString('en-US'), where: 'mirror/follower.ts' },
  { bound: 'peers taken from one tracker answer to a mirror', value: String(MAX_TRACKER_PEERS), where: 'mirror/tracker-peers.ts' },
  { bound: 'peers taken from one DHT lookup of a mirror', value: String(MAX_DHT_PEERS), where: 'mirror/catalog-source.ts' },
  { bound: 'one peer wire message (a length prefix above it ends the connection before anything is buffered)', value: bytes(MAX_MESSAGE_LENGTH), where: 'seeder/message-framer.ts' },
  { bound: 'bytes queued on one peer socket before no new block is started for it', value: bytes(SEND_BUFFER_BYTES), where: 'seeder/peer-session.ts' },
  { bound: 'bytes queued on one peer socket before the peer is disconnected', value: bytes(MAX_SEND_BUFFER_BYTES), where: 'seeder/peer-session.ts' },
  { bound: 'disk reads in flight for one peer', value: String(MAX_READS_PER_PEER), where: 'seeder/peer-session.ts' },
  { bound: 'hashes asked for in one BEP 52 hash request (more: a hash reject; libtorrent 2.0.8\'s own bound)', value: MAX_HASHES_PER_REQUEST.toLocaleString('en-US'), where: 'seeder/hash-request.ts' },
  { bound: 'BEP 52 hash requests answered at once for one peer (more: a hash reject; one below the piece layer reads and hashes one piece, 16 KiB at a time)', value: String(MAX_HASH_ANSWERS_PER_PEER), where: 'seeder/peer-session.ts' },
  { bound: 'pieces a peer last asked blocks of, the only ones whose block hashes (BEP 52, below the piece layer) are read from disk for it', value: String(RECENT_PIECES_PER_PEER), where: 'seeder/peer-session.ts' },
  { bound: 'BEP 52 piece trees (the layers above each file\'s piece layer) kept between hash requests, least recently used dropped', value: bytes(HASH_TREE_CACHE_BYTES), where: 'seeder/hash-answerer.ts' },
  { bound: 'outgoing peer connections still in their TCP handshake', value: String(MAX_HALF_OPEN), where: 'seeder/seeder.ts' },
  { bound: 'leechers waiting to be dialled a moment after their announce (each torrent and address once; more are not dialled)', value: String(MAX_PENDING_DIALS), where: 'seeder/dial-queue.ts' },
  { bound: 'peer asking for nothing, before a newcomer may take its place in a full seeder or torrent (a host so replaced may not replace another for as long)', value: `${REPLACE_AFTER_MS / 1000} s`, where: 'seeder/replacement.ts' },
  { bound: 'peers named as added in one PEX message (BEP 11)', value: String(MAX_PEX_ADDED), where: 'seeder/pex-message.ts' },
  { bound: 'peers named as dropped in one PEX message (BEP 11)', value: String(MAX_PEX_DROPPED), where: 'seeder/pex-message.ts' },
  { bound: 'time between PEX messages to one peer, after the first (BEP 11)', value: `${PEX_INTERVAL_MS / 1000} s`, where: 'seeder/pex-feed.ts' },
  { bound: 'peers remembered as told of, per peer taking PEX (never more than its swarm has held at once)', value: '`seeder.max_connections_per_torrent`', where: 'seeder/pex-feed.ts' },
  { bound: 'one local service discovery (BEP 14) datagram', value: bytes(MAX_DATAGRAM), where: 'seeder/lsd-message.ts' },
  { bound: 'one DHT datagram (a larger one is dropped undecoded; so is one whose fields are not of BEP 5\'s types)', value: bytes(MAX_KRPC_DATAGRAM), where: 'dht/krpc-message.ts' },
  { bound: 'DHT announces in flight (published torrents are announced a few at a time)', value: String(ANNOUNCE_CONCURRENCY), where: 'dht/dht.ts' },
  { bound: 'time between the starts of two DHT announces (1,000 torrents: 8 min)', value: `${ANNOUNCE_SPACING_MS / 1000} s`, where: 'dht/dht.ts' },
  { bound: 'DHT nodes read back from dht.json at start', value: MAX_SAVED_NODES.toLocaleString('en-US'), where: 'dht/dht-state.ts' },
  { bound: 'dht.json read at start (a larger file is refused unread)', value: bytes(MAX_STATE_BYTES), where: 'dht/dht-state.ts' },
  { bound: 'bencoded value of one BEP 44 item, put or got (a larger one is dropped)', value: bytes(MAX_VALUE_BYTES), where: 'dht/mutable-item.ts' },
  { bound: 'answers kept from one BEP 44 get (resolving a box\'s catalog pointer)', value: String(MAX_GET_REPLIES), where: 'dht/resolve-catalog-pointer.ts' },
  { bound: 'boxes whose last BEP 46 sequence number a follower remembers', value: MAX_SEEN_POINTERS.toLocaleString('en-US'), where: 'dht/seen-pointers.ts' },
  { bound: 'torrents listed in the box\'s catalog (the rest are left out, and logged)', value: MAX_CATALOG_ITEMS.toLocaleString('en-US'), where: 'identity/catalog-document.ts' },
  { bound: 'bytes of one catalog document (made or downloaded)', value: bytes(MAX_CATALOG_BYTES), where: 'identity/catalog-document.ts' },
  { bound: 'characters of one name in a catalog document', value: MAX_CATALOG_NAME.toLocaleString('en-US'), where: 'identity/catalog-document.ts' },
  { bound: 'time between two rebuilds of the box\'s catalog torrent', value: `${CATALOG_REBUILD_MS / 1000} s`, where: 'identity/box-catalog.ts' },
  { bound: 'infohashes in one UDP scrape (BEP 15)', value: String(MAX_SCRAPE_HASHES), where: 'tracker/udp-protocol.ts' },
  { bound: 'unsent bytes of one status stream before it is dropped (the page reconnects)', value: bytes(MAX_BUFFERED_BYTES), where: 'web/status-events.ts' },
  { bound: 'body of an action request', value: bytes(MAX_BODY_BYTES), where: 'web/status-actions.ts' },
  { bound: 'renderings of the feeds kept (each a format served from one origin: a name or address the box was reached by; the least recently used goes)', value: String(MAX_FEED_RENDERINGS), where: 'web/feed/published-feed.ts' },
  { bound: 'time to receive a whole HTTP request, body included (Node\'s default; headers have `http.headers_seconds`)', value: `${REQUEST_SECONDS} s`, where: 'web/http-server.ts' },
  { bound: 'one peer wire message to a download (a piece message: a 16 KiB block and its header)', value: bytes(MAX_INCOMING_MESSAGE), where: 'download/peer-link.ts' },
  { bound: 'peer connections of one download while its metadata is unknown (each may fetch up to `download.max_metadata_bytes`)', value: String(DOWNLOAD.maxMetadataPeers), where: 'download/download-limits.ts' },
  { bound: 'peer addresses one download remembers (dialled, waiting or done with)', value: DOWNLOAD.maxKnownPeers.toLocaleString('en-US'), where: 'download/download-limits.ts' },
  { bound: 'received blocks of one download waiting for the disk (no new request beyond it)', value: bytes(DOWNLOAD.maxWritingBytes), where: 'download/download-limits.ts' },
  { bound: 'content files one download keeps open', value: String(DOWNLOAD.maxOpenFiles), where: 'download/download-limits.ts' },
  { bound: 'pieces fetched at once from one web seed; failures in a row before it is dropped', value: `${DOWNLOAD.webSeedPieces}; ${DOWNLOAD.webSeedFailures}`, where: 'download/download-limits.ts' },
  { bound: 'a download\'s peer connect, unanswered request (or web seed answer) and idle connection', value: `${DOWNLOAD.connectTimeoutMs / 1000} s, ${DOWNLOAD.requestTimeoutMs / 1000} s, ${DOWNLOAD.idleTimeoutMs / 1000} s`, where: 'download/download-limits.ts' },
  { bound: 'times a download dials a peer that left again', value: String(DOWNLOAD.peerAttempts), where: 'download/download-limits.ts' },
  { bound: 'failed pieces a download remembers to find the peer that sent the bad blocks', value: String(MAX_SUSPECTS), where: 'download/download.ts' },
  { bound: 'bytes read at once to check a downloaded piece', value: bytes(READ_CHUNK), where: 'download/piece-store.ts' }
]

/**
 * docs/limits.md: every bound the service keeps, the configurable ones from the settings table (with
 * their defaults) and the fixed ones from the code. Rendered, never written by hand.
 */
export function renderLimitsTable (env: SettingsEnvironment): string {
  const defaults = defaultSettings(env)
  const configurable = (Object.keys(SETTINGS) as SettingKey[]).flatMap((key) => {
    const spec: { readonly bound?: string, readonly doc: string, readonly live?: true } = SETTINGS[key]
    return spec.bound === undefined ? [] : [`| ${spec.bound} | ${formatDefault(key, defaults[key])} | \`${key}\` | ${spec.live === true ? 'reload' : 'restart'} | ${spec.doc.replaceAll('|', '\\|')} |`]
  })
  const fixed = FIXED_LIMITS.map((limit) => `| ${limit.bound} | ${limit.value} | \`appliance/${limit.where}\` |`)
  return [
    '# Limits',
    '',
    '<!-- Rendered from the settings table and the code by `node dist/scripts/render-config.js`; do not edit by hand. -->',
    '',
    'Every queue, table, connection count, frame, header and cache the service keeps has a bound, and',
    'this is all of them. A hostile or broken client reaches a bound and loses its connection or its',
    'request; nothing else is affected. Transient resource errors (`EMFILE`, `ENFILE`, `ENOMEM`,',
    '`EAGAIN`) never withdraw a published item: a library scan is retried 5 s later, a peer\'s block',
    'request is rejected (BEP 6) and a web seed request answered 503 with `Retry-After`. The service',
    'fits its connection limits under its open-files limit at start (`system.fd_reserve`), so a flood',
    'of connections meets a connection limit, not `EMFILE`.',
    '',
    '## Configurable (config file keys)',
    '',
    '| bound | default | key | a change takes effect at | what happens |',
    '|---|--:|---|---|---|',
    ...configurable,
    '',
    '## Fixed',
    '',
    '| bound | value | where |',
    '|---|--:|---|',
    ...fixed,
    ''
  ].join('\n')
}

function formatDefault (key: SettingKey, value: unknown): string {
  if (typeof value !== 'number') return String(value)
  if (key.endsWith('_seconds')) return `${value} s`
  if (key.endsWith('_bytes') || key.endsWith('_size')) return bytes(value)
  return value.toLocaleString('en-US')
}

function bytes (value: number): string {
  if (value >= KiB * KiB && value % (KiB * KiB) === 0) return `${value / (KiB * KiB)} MiB`
  if (value >= KiB && value % KiB === 0) return `${value / KiB} KiB`
  return `${value} B`
}
