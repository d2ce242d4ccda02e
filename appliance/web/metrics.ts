import type { EventLoopDelaySample } from '../platform/event-loop-delay.js'
import type { ItemDoc, StatusDocument } from './status-document.js'

type MetricType = 'gauge' | 'counter'

interface Sample {
  readonly labels?: Readonly<Record<string, string>>
  readonly value: number
}

interface Family {
  readonly name: string
  readonly type: MetricType
  readonly help: string
  readonly samples: readonly Sample[]
}

/** The media type of the Prometheus text exposition format, version 0.0.4. */
export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'

const ITEM_STATES = ['waiting', 'queued', 'hashing', 'seeding', 'offline', 'paused', 'error'] as const

/**
 * `/metrics` in the Prometheus text exposition format: the totals, each library's space, and per
 * published torrent (labels `infohash` and `name`) its peers, upload and swarm counts. Counters
 * restart from 0 with the service, as Prometheus expects of counters. The event-loop delay, when
 * given, covers the time since the previous scrape.
 */
export function metricsText (document: StatusDocument, eventLoop?: EventLoopDelaySample): string {
  const torrents = publishedTorrents(document.items)
  const perTorrent = (pick: (item: ItemDoc) => number): Sample[] => torrents.map((item) => ({ labels: { infohash: item.infoHash!, name: item.name }, value: pick(item) }))
  const states = [...new Set([...ITEM_STATES, ...document.items.map((item) => item.state)])]
  const present = document.libraries.filter((library) => library.space !== undefined)
  const families: Family[] = [
    { name: 'evertorrent_build_info', type: 'gauge', help: 'The running version; always 1.', samples: [{ labels: { version: document.box.version }, value: 1 }] },
    { name: 'evertorrent_start_time_seconds', type: 'gauge', help: 'When the service started, in seconds since the epoch.', samples: [{ value: document.box.startedAt / 1000 }] },
    { name: 'evertorrent_items', type: 'gauge', help: 'Library items by state.', samples: states.map((state) => ({ labels: { state }, value: document.items.filter((item) => item.state === state).length })) },
    { name: 'evertorrent_published_bytes', type: 'gauge', help: 'Bytes of content published (seeding).', samples: [{ value: document.totals.bytesPublished }] },
    { name: 'evertorrent_uploaded_bytes_total', type: 'counter', help: 'Bytes uploaded over BitTorrent and the web seed since the service started.', samples: [{ value: document.totals.bytesUploaded }] },
    { name: 'evertorrent_upload_rate_bytes_per_second', type: 'gauge', help: 'Upload rate over the last few seconds.', samples: [{ value: document.totals.uploadRate }] },
    { name: 'evertorrent_peers', type: 'gauge', help: 'Peers connected to the everseed.', samples: [{ value: document.totals.peers }] },
    { name: 'evertorrent_peers_by_encryption', type: 'gauge', help: 'Peers connected to the everseed, by whether MSE/PE encrypts the connection.', samples: [{ labels: { encryption: 'rc4' }, value: document.reachability.peers.encrypted }, { labels: { encryption: 'plain' }, value: document.reachability.peers.plain }] },
    { name: 'evertorrent_port_mappings', type: 'gauge', help: 'Ports the router forwards to the box (UPnP-IGD, NAT-PMP, PCP).', samples: [{ value: document.reachability.router.mappings.length }] },
    { name: 'evertorrent_dht_nodes', type: 'gauge', help: 'Nodes in the DHT routing table.', samples: [{ value: document.reachability.dht.nodes }] },
    { name: 'evertorrent_dht_announced', type: 'gauge', help: 'Infohashes the box announces in the DHT.', samples: [{ value: document.reachability.dht.announced }] },
    { name: 'evertorrent_library_present', type: 'gauge', help: '1 while the library (folder or drive) is there, else 0.', samples: document.libraries.map((library) => ({ labels: { library: library.name, kind: library.kind }, value: library.state === 'present' ? 1 : 0 })) },
    { name: 'evertorrent_library_size_bytes', type: 'gauge', help: 'Size of the filesystem a library is on.', samples: present.map((library) => ({ labels: { library: library.name }, value: library.space!.totalBytes })) },
    { name: 'evertorrent_library_free_bytes', type: 'gauge', help: 'Free bytes on the filesystem a library is on.', samples: present.map((library) => ({ labels: { library: library.name }, value: library.space!.freeBytes })) },
    { name: 'evertorrent_item_size_bytes', type: 'gauge', help: 'Content bytes of a published item.', samples: perTorrent((item) => item.totalBytes ?? 0) },
    { name: 'evertorrent_item_peers', type: 'gauge', help: 'Peers connected to the everseed for a torrent.', samples: perTorrent((item) => item.peers) },
    { name: 'evertorrent_item_upload_rate_bytes_per_second', type: 'gauge', help: 'Upload rate of a torrent over the last few seconds.', samples: perTorrent((item) => item.uploadRate) },
    { name: 'evertorrent_item_uploaded_bytes_total', type: 'counter', help: 'Bytes of a torrent uploaded since the service started.', samples: perTorrent((item) => item.uploadedBytes) },
    { name: 'evertorrent_item_swarm_seeders', type: 'gauge', help: 'Seeders in the swarm, as the tracker counts them.', samples: perTorrent((item) => item.swarm.seeders) },
    { name: 'evertorrent_item_swarm_leechers', type: 'gauge', help: 'Leechers in the swarm, as the tracker counts them.', samples: perTorrent((item) => item.swarm.leechers) },
    { name: 'evertorrent_item_downloads_completed_total', type: 'counter', help: 'Completed downloads the tracker has been told of.', samples: perTorrent((item) => item.swarm.completed) },
    ...(eventLoop === undefined ? [] : eventLoopFamilies(eventLoop))
  ]
  return families.map(familyText).join('')
}

function eventLoopFamilies (sample: EventLoopDelaySample): Family[] {
  return [
    { name: 'evertorrent_event_loop_delay_seconds', type: 'gauge', help: 'Event-loop delay since the previous scrape: its 99th percentile.', samples: [{ labels: { quantile: '0.99' }, value: sample.p99Seconds }] },
    { name: 'evertorrent_event_loop_delay_max_seconds', type: 'gauge', help: 'The longest event-loop delay since the previous scrape.', samples: [{ value: sample.maxSeconds }] }
  ]
}

/**
 * One item per infohash: the same content in two libraries is one torrent, and two series with the
 * same labels would make the whole exposition invalid.
 */
function publishedTorrents (items: readonly ItemDoc[]): ItemDoc[] {
  const seen = new Map<string, ItemDoc>()
  for (const item of items) {
    if (item.infoHash !== undefined && item.state === 'seeding' && !seen.has(item.infoHash)) seen.set(item.infoHash, item)
  }
  return [...seen.values()]
}

function familyText (family: Family): string {
  const lines = [`# HELP ${family.name} ${escapeHelp(family.help)}`, `# TYPE ${family.name} ${family.type}`]
  for (const sample of family.samples) lines.push(`${family.name}${labelsText(sample.labels)} ${formatValue(sample.value)}`)
  return `${lines.join('\n')}\n`
}

function labelsText (labels: Readonly<Record<string, string>> | undefined): string {
  if (labels === undefined) return ''
  return `{${Object.entries(labels).map(([name, value]) => `${name}="${escapeLabelValue(value)}"`).join(',')}}`
}

/** The exposition format escapes `\`, `"` and line feeds in label values… */
export function escapeLabelValue (value: string): string {
  return value.replace(/[\\"\n]/g, (char) => char === '\n' ? '\\n' : `\\${char}`)
}

/** …and only `\` and line feeds in help text. */
function escapeHelp (text: string): string {
  return text.replace(/[\\\n]/g, (char) => char === '\n' ? '\\n' : '\\\\')
}

function formatValue (value: number): string {
  if (Number.isNaN(value)) return 'NaN'
  if (!Number.isFinite(value)) return value > 0 ? '+Inf' : '-Inf'
  return String(value)
}
