import type Client from 'bittorrent-tracker'
import type { InfoHash, Metainfo } from '../metainfo/metainfo.js'
import { parsePeerAddress, type PeerAddress } from '../net/peer-address.js'

export interface TrackerAnnouncerOptions {
  /** Our 20-byte peer id. */
  readonly peerId: Buffer
  /** The TCP port peers reach us on. */
  readonly port: number
  /** True for the URLs of evertorrent's own tracker, which knows the everseed without being told. */
  readonly isOwnTracker: (url: string) => boolean
  /** Bytes uploaded so far for a torrent, reported to its trackers. */
  readonly uploaded: (infoHash: InfoHash) => number
  readonly onPeer: (infoHash: InfoHash, peer: PeerAddress) => void
  readonly onWarning: (infoHash: InfoHash, message: string) => void
}

/** The HTTP(S) and UDP trackers of a torrent other than our own; WebSocket trackers need WebRTC, which a TCP seed cannot use. */
export function foreignTrackers (metainfo: Metainfo, isOwnTracker: (url: string) => boolean): string[] {
  const urls = metainfo.announceList.flat().filter((url) => /^(https?|udp):\/\//i.test(url) && !isOwnTracker(url))
  return [...new Set(urls)]
}

/**
 * bittorrent-tracker's client drags in its WebRTC stack (about 15 MB of resident memory), so it is
 * loaded only when a torrent lists a tracker other than ours.
 */
let clientClass: Promise<typeof Client> | undefined
async function loadClient (): Promise<typeof Client> {
  clientClass ??= import('bittorrent-tracker').then((module) => module.default)
  return await clientClass
}

/**
 * Announces published torrents as a seed (`left=0`) to the trackers listed in them that are not our
 * own, so the everseed joins those swarms too, and hands the peers they return to the seeder.
 * One bittorrent-tracker Client per such torrent; torrents with only our tracker cost nothing.
 */
export class TrackerAnnouncer {
  private readonly options: TrackerAnnouncerOptions
  /** `loading` until the client class is loaded; a torrent removed meanwhile is simply dropped. */
  private readonly clients = new Map<InfoHash, Client | 'loading'>()

  constructor (options: TrackerAnnouncerOptions) {
    this.options = options
  }

  add (metainfo: Metainfo): void {
    const announce = foreignTrackers(metainfo, this.options.isOwnTracker)
    if (announce.length === 0 || this.clients.has(metainfo.infoHash)) return
    this.clients.set(metainfo.infoHash, 'loading')
    loadClient().then((ClientClass) => {
      if (this.clients.get(metainfo.infoHash) === 'loading') this.start(ClientClass, metainfo.infoHash, announce)
    }, (error: unknown) => this.options.onWarning(metainfo.infoHash, `cannot load the tracker client: ${String(error)}`))
  }

  private start (ClientClass: typeof Client, infoHash: InfoHash, announce: string[]): void {
    const client = new ClientClass({
      infoHash,
      peerId: this.options.peerId,
      announce,
      port: this.options.port,
      getAnnounceOpts: () => ({ uploaded: this.options.uploaded(infoHash), downloaded: 0, left: 0 })
    })
    client.on('peer', (address: string) => {
      const peer = parsePeerAddress(address)
      if (peer !== undefined) this.options.onPeer(infoHash, peer)
    })
    client.on('warning', (error: Error) => this.options.onWarning(infoHash, error.message))
    client.on('error', (error: Error) => this.options.onWarning(infoHash, error.message))
    this.clients.set(infoHash, client)
    client.start()
  }

  /** Tells the torrent's trackers we stopped, and forgets it. */
  remove (infoHash: InfoHash): void {
    const client = this.clients.get(infoHash)
    this.clients.delete(infoHash)
    if (client !== undefined && client !== 'loading') void stop(client)
  }

  async close (): Promise<void> {
    const clients = [...this.clients.values()].filter((client): client is Client => client !== 'loading')
    this.clients.clear()
    await Promise.all(clients.map(stop))
  }
}

/** BEP 3 `event=stopped`, then the client waits (at most a few seconds) for its requests to end. */
async function stop (client: Client): Promise<void> {
  client.stop()
  await new Promise<void>((resolve) => client.destroy(() => resolve()))
}
