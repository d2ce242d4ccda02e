/**
 * Runs the npm package `create-torrent` once, in a process of its own so that `bench-create` can
 * measure its time and peak RSS apart from everything else.
 *
 * Usage: node dist/scripts/create-torrent-runner.js <file-or-folder> <output.torrent> <piece-length>
 */
import { writeFileSync } from 'node:fs'

interface CreateTorrentOptions {
  readonly pieceLength: number
  /** Must be given: without it create-torrent adds public trackers. */
  readonly announceList: string[][]
}
type CreateTorrent = (input: string, options: CreateTorrentOptions, callback: (error: Error | null, torrent: Uint8Array) => void) => void

// The package ships no type declarations; a non-literal specifier lets tsc accept the import as `any`.
const packageName: string = 'create-torrent'
const { default: createTorrent } = await import(packageName) as { default: CreateTorrent }

const [input, output, pieceLength] = process.argv.slice(2)
if (input === undefined || output === undefined || pieceLength === undefined) {
  process.stderr.write('usage: create-torrent-runner <file-or-folder> <output.torrent> <piece-length>\n')
  process.exit(2)
}

const torrent = await new Promise<Uint8Array>((resolve, reject) => {
  createTorrent(input, { pieceLength: Number(pieceLength), announceList: [] }, (error, torrent) => {
    if (error !== null) reject(error)
    else resolve(torrent)
  })
})
writeFileSync(output, torrent)
