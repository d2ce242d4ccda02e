/**
 * webtorrent 2.x's download side in a process of its own, for scripts/bench-fetch.ts only (webtorrent
 * is not a dependency of evertorrent: it is loaded from the path given). `node fetch-with-webtorrent.js
 * '<json>'` with { module, torrentPath, peer: "host:port", folder }; prints one JSON line `done` with
 * its peak RSS and CPU time, or `failed`. DHT, trackers, LSD, uTP, web seeds and port mapping are off:
 * the one peer given is its only source.
 */
import { readFileSync } from 'node:fs'
import { register } from 'node:module'

interface Options {
  readonly module: string
  readonly torrentPath: string
  readonly peer: string
  readonly folder: string
}

interface WebTorrentTorrent {
  addPeer (peer: string): boolean
  on (event: 'done', listener: () => void): void
  on (event: 'error', listener: (error: Error) => void): void
}

interface WebTorrentClient {
  add (torrent: Buffer, options: Record<string, unknown>, ready: (torrent: WebTorrentTorrent) => void): WebTorrentTorrent
  on (event: 'error', listener: (error: Error) => void): void
  destroy (callback: () => void): void
}

/**
 * webtorrent loads WebRTC (webrtc-polyfill → node-datachannel, a native module whose binary an install
 * without scripts lacks) even with no WebRTC peer in sight: it resolves to an empty stand-in here, so
 * the measured client is webtorrent's TCP wire and storage alone.
 */
const NO_WEBRTC = 'data:text/javascript,' + encodeURIComponent('export class PeerConnection {}; export class RtcpReceivingSession {}; export class Video {}; export class Audio {}; export function cleanup () {}; export default {}')
const HOOKS = 'data:text/javascript,' + encodeURIComponent(`export async function resolve (specifier, context, next) { return specifier === 'node-datachannel' ? { url: ${JSON.stringify(NO_WEBRTC)}, shortCircuit: true } : next(specifier, context) }`)
register(HOOKS)

const options = JSON.parse(process.argv[2]!) as Options
const { default: WebTorrent } = await import(options.module) as { default: new (options: Record<string, unknown>) => WebTorrentClient }
const client = new WebTorrent({ dht: false, tracker: false, lsd: false, utp: false, webSeeds: false, natUpnp: false, natPmp: false })
const started = performance.now()
const fail = (error: Error): void => {
  process.stdout.write(`${JSON.stringify({ event: 'failed', message: error.message })}\n`)
  process.exit(1)
}
client.on('error', fail)
client.add(readFileSync(options.torrentPath), { path: options.folder, announce: [] }, (torrent) => {
  torrent.on('error', fail)
  torrent.addPeer(options.peer)
  torrent.on('done', () => {
    const usage = process.resourceUsage()
    process.stdout.write(`${JSON.stringify({ event: 'done', seconds: (performance.now() - started) / 1000, maxRssKiB: usage.maxRSS, cpuSeconds: (usage.userCPUTime + usage.systemCPUTime) / 1e6 })}\n`)
    client.destroy(() => process.exit(0))
  })
})
