import type { InfoHash } from '../metainfo/metainfo.js'
import { webSeedUrl } from './web-seed.js'

/** A host as it goes into a URL: IPv6 literals in brackets. */
export function urlHost (host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host
}

/** Where one host serves the tracker (HTTP and UDP on one port number) and the web seeds. */
interface Origin {
  readonly host: string
  readonly trackerPort?: number
  readonly httpPort?: number
}

export interface TrackerFields {
  readonly announceList: string[][]
  readonly urlList: string[]
}

/**
 * The URLs torrents name this box by: its tracker and web seeds at the LAN name, then, when the box is
 * reachable from the internet, at the public host too: announce tiers in that order (BEP 12; a client
 * outside fails over from a LAN name it cannot resolve or reach), one web seed each (BEP 19). These
 * fields are outside the info dictionary: changing them changes no infohash.
 */
export class TorrentUrls {
  private readonly lan: Required<Origin>
  private public: Origin | undefined
  private fields: { announceList: string[][], webSeedBases: string[], origins: string[] }

  constructor (lan: { readonly host: string, readonly trackerPort: number, readonly httpPort: number }) {
    this.lan = { ...lan, host: urlHost(lan.host) }
    this.fields = build([this.lan])
  }

  get announceList (): string[][] {
    return this.fields.announceList
  }

  /** The LAN web server (`http://host:port`), as the web seeds name it. */
  get lanOrigin (): string {
    return `http://${this.lan.host}:${this.lan.httpPort}`
  }

  /** The hosts these URLs name (the LAN one, then the public one), as written in them. */
  get hosts (): string[] {
    return [this.lan, ...(this.public === undefined ? [] : [this.public])].map((origin) => origin.host)
  }

  /** Sets the public host and the ports reachable there (absent: not reachable); true when the URLs changed. */
  setPublic (endpoint: Origin | undefined): boolean {
    const next = endpoint === undefined ? undefined : { host: urlHost(endpoint.host), trackerPort: endpoint.trackerPort, httpPort: endpoint.httpPort }
    const before = JSON.stringify(this.fields)
    this.public = next
    this.fields = build(next === undefined ? [this.lan] : [this.lan, next])
    return JSON.stringify(this.fields) !== before
  }

  /** The outer fields of a torrent (see `PublisherOptions.trackersFor`). */
  readonly trackersFor = (infoHash: InfoHash): TrackerFields => ({
    announceList: this.fields.announceList,
    urlList: this.fields.webSeedBases.map((base) => webSeedUrl(base, infoHash))
  })

  /** True for a URL of this box's own tracker or web server, by any of its hosts. */
  readonly isOwn = (url: string): boolean => this.fields.origins.some((origin) => url.startsWith(origin))
}

function build (origins: readonly Origin[]): { announceList: string[][], webSeedBases: string[], origins: string[] } {
  const announceList: string[][] = []
  const webSeedBases: string[] = []
  const own: string[] = []
  for (const { host, trackerPort, httpPort } of origins) {
    if (trackerPort !== undefined) {
      announceList.push([`http://${host}:${trackerPort}/announce`], [`udp://${host}:${trackerPort}`])
      own.push(`http://${host}:${trackerPort}/`, `udp://${host}:${trackerPort}`)
    }
    if (httpPort !== undefined) {
      webSeedBases.push(`http://${host}:${httpPort}`)
      own.push(`http://${host}:${httpPort}/`)
    }
  }
  return { announceList, webSeedBases, origins: own }
}
