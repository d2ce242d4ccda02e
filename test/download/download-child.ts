/**
 * One download in a process of its own, for tests that kill it and for scripts/bench-fetch.ts:
 * `node download-child.js '<json>'` with the options below; prints one JSON object per line on
 * stdout: `progress` at each verified piece, then `done` (or `failed`) with its peak RSS and CPU time.
 */
import { readFileSync } from 'node:fs'
import { Download, type DownloadOptions } from '../../appliance/download/download.js'
import type { InfoHash } from '../../appliance/metainfo/metainfo.js'

/** `DownloadOptions` as JSON can carry them: the `.torrent` by its path. */
export interface DownloadChildOptions extends Pick<DownloadOptions, 'peers' | 'webSeeds' | 'folder' | 'resumePath' | 'limits'> {
  readonly infoHash: string
  readonly torrentPath?: string
}

function print (event: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(event)}\n`)
}

async function main (): Promise<void> {
  const options = JSON.parse(process.argv[2]!) as DownloadChildOptions
  const download = new Download({
    infoHash: options.infoHash as InfoHash,
    ...(options.torrentPath !== undefined && { metainfo: readFileSync(options.torrentPath) }),
    peers: options.peers ?? [],
    webSeeds: options.webSeeds ?? [],
    folder: options.folder,
    resumePath: options.resumePath,
    ...(options.limits !== undefined && { limits: options.limits })
  })
  const started = performance.now()
  download.on('metadata', (metainfo) => print({ event: 'metadata', name: metainfo.name, pieces: metainfo.pieceCount }))
  download.on('progress', (progress) => print({ event: 'progress', ...progress }))
  download.on('peer', (peer) => print({ event: 'peer', change: peer.event, address: peer.address, reason: peer.reason }))
  await download.start()
  try {
    const result = await download.finished
    const usage = process.resourceUsage()
    print({
      event: 'done',
      seconds: (performance.now() - started) / 1000,
      receivedBytes: result.receivedBytes,
      resumedPieces: result.resumedPieces,
      files: result.files,
      maxRssKiB: usage.maxRSS,
      cpuSeconds: (usage.userCPUTime + usage.systemCPUTime) / 1e6
    })
  } catch (error) {
    print({ event: 'failed', code: (error as { code?: string }).code, message: (error as Error).message })
    process.exitCode = 1
  }
}

await main()
