import type { PublishedTorrent } from '../catalog/catalog.js'
import { compareCodePoints } from '../metainfo/content.js'

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

/** Whether a torrent's files are in byte-wise order of their paths (every torrent evertorrent makes), so that a search can halve. */
const sortedTorrents = new WeakMap<PublishedTorrent, boolean>()

/**
 * The index in `torrent.files` of the file the segments name exactly, if any: a binary search over
 * the torrent's paths where they are sorted, so a torrent of 100,000 files needs no index of its
 * own; a scan where they are not.
 */
export function findWebSeedFile (torrent: PublishedTorrent, segments: readonly string[]): number | undefined {
  const { metainfo } = torrent
  const { files } = metainfo
  if (!metainfo.isMultiFile) return segments.length === 1 && segments[0] === metainfo.name ? 0 : undefined
  // A `/` inside a segment would make two segments of the joined path.
  if (segments.length < 2 || segments[0] !== metainfo.name || segments.some((segment) => segment.includes('/'))) return undefined
  const wanted = segments.slice(1).join('/')
  const pathAt = (index: number): string => files.pathOf(index).join('/')
  let sorted = sortedTorrents.get(torrent)
  if (sorted === undefined) {
    sorted = true
    for (let index = 1; index < files.length && sorted; index++) sorted = compareCodePoints(pathAt(index - 1), pathAt(index)) < 0
    sortedTorrents.set(torrent, sorted)
  }
  if (!sorted) {
    for (let index = 0; index < files.length; index++) if (pathAt(index) === wanted) return index
    return undefined
  }
  let low = 0
  let high = files.length - 1
  while (low <= high) {
    const middle = (low + high) >>> 1
    const order = compareCodePoints(pathAt(middle), wanted)
    if (order === 0) return middle
    if (order < 0) low = middle + 1
    else high = middle - 1
  }
  return undefined
}
