/**
 * What a torrent describes its content with: BEP 3 SHA-1 pieces (`v1`), BEP 52 SHA-256 merkle trees
 * per file (`v2`), or both over the same piece space (`hybrid`, readable by v1-only clients: its
 * files start on piece boundaries, with BEP 47 pad files between them).
 */
export type TorrentFormat = 'v1' | 'hybrid' | 'v2'

export const TORRENT_FORMATS: readonly TorrentFormat[] = ['v1', 'hybrid', 'v2']

export function isTorrentFormat (value: unknown): value is TorrentFormat {
  return TORRENT_FORMATS.includes(value as TorrentFormat)
}

/** Whether the torrent has BEP 52 merkle trees (a `file tree`, `piece layers`, a v2 infohash). */
export function hasV2 (format: TorrentFormat): boolean {
  return format !== 'v1'
}
