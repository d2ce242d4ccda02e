import type { Metainfo } from './metainfo.js'

/**
 * A magnet URI (BEP 9) with the display name, exact length, trackers and web seeds (BEP 19 `ws`).
 * Hybrid and v2 torrents carry their SHA-256 infohash as a multihash (BEP 52: `urn:btmh:`, 0x12
 * SHA-256, 0x20 bytes), a hybrid one beside its v1 `urn:btih:`.
 */
export function magnetUri (metainfo: Metainfo): string {
  const parts = [
    ...(metainfo.format === 'v2' ? [] : [`xt=urn:btih:${metainfo.infoHash}`]),
    ...(metainfo.infoHashV2 === undefined ? [] : [`xt=urn:btmh:1220${metainfo.infoHashV2}`]),
    `dn=${encodeURIComponent(metainfo.name)}`,
    `xl=${contentBytes(metainfo)}`,
    ...metainfo.announceList.flat().map((url) => `tr=${encodeURIComponent(url)}`),
    ...metainfo.urlList.map((url) => `ws=${encodeURIComponent(url)}`)
  ]
  return `magnet:?${parts.join('&')}`
}

/** The files' bytes, without a hybrid torrent's pad bytes. */
function contentBytes (metainfo: Metainfo): number {
  let total = 0
  for (let index = 0; index < metainfo.files.length; index++) total += metainfo.files.lengthOf(index)
  return total
}
