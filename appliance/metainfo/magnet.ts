import type { Metainfo } from './metainfo.js'

/** A magnet URI (BEP 9) with the display name, exact length, trackers and web seeds (BEP 19 `ws`). */
export function magnetUri (metainfo: Metainfo): string {
  const parts = [
    `xt=urn:btih:${metainfo.infoHash}`,
    `dn=${encodeURIComponent(metainfo.name)}`,
    `xl=${metainfo.totalBytes}`,
    ...metainfo.announceList.flat().map((url) => `tr=${encodeURIComponent(url)}`),
    ...metainfo.urlList.map((url) => `ws=${encodeURIComponent(url)}`)
  ]
  return `magnet:?${parts.join('&')}`
}
