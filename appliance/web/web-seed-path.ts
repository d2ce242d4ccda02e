import type { PublishedTorrent } from '../catalog/catalog.js'

/** A web seed request path, split and decoded, or the status that refuses it. */
export type WebSeedTarget =
  | { readonly infoHash: string, readonly segments: readonly string[] }
  | { readonly status: 400 | 404 }

/**
 * Reads the part of a request path after `/webseed/`: `<infohash>/<name>` for a single-file torrent,
 * `<infohash>/<name>/<path...>` for a multi-file one (BEP 19 appends the torrent's name and the
 * file's path to the url-list entry). Segments are percent-decoded one by one; a segment that decodes
 * to something no torrent path can hold (`.`, `..`, a `/`, a NUL) is a 400, and the result is only
 * ever compared with the torrent's file list, never joined onto a filesystem path.
 */
export function parseWebSeedPath (rest: string): WebSeedTarget {
  const [infoHash = '', ...encoded] = rest.split('/')
  if (!/^[0-9a-fA-F]{40}$/.test(infoHash) || encoded.length === 0 || encoded.includes('')) return { status: 404 }
  const segments: string[] = []
  for (const segment of encoded) {
    let decoded: string
    try {
      decoded = decodeURIComponent(segment)
    } catch {
      return { status: 400 }
    }
    if (decoded === '.' || decoded === '..' || decoded.includes('/') || decoded.includes('\0')) return { status: 400 }
    segments.push(decoded)
  }
  return { infoHash: infoHash.toLowerCase(), segments }
}

const fileIndexes = new WeakMap<PublishedTorrent, Map<string, number>>()

/** The index in `torrent.files` of the file the segments name exactly, if any. */
export function findWebSeedFile (torrent: PublishedTorrent, segments: readonly string[]): number | undefined {
  let indexes = fileIndexes.get(torrent)
  if (indexes === undefined) {
    const { metainfo } = torrent
    indexes = new Map(metainfo.files.map((file, index) => [
      segmentsKey(metainfo.isMultiFile ? [metainfo.name, ...file.path] : file.path),
      index
    ]))
    fileIndexes.set(torrent, indexes)
  }
  return indexes.get(segmentsKey(segments))
}

/** One string per list of segments, whatever characters they hold. */
function segmentsKey (segments: readonly string[]): string {
  return JSON.stringify(segments)
}
