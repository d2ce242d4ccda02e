import { encodeTorrent, parseTorrent } from '../../../appliance/metainfo/metainfo.js'

// A client given web seeds (BEP 19) may fetch everything over HTTP; without them, the tracker's peers
// are its only source, so a completed download proves the peer wire. The infohash is unchanged: the
// url-list sits outside the info dictionary.

/** The `.torrent` bytes without a `url-list`. */
export function torrentWithoutWebSeeds (torrent: Uint8Array): Buffer {
  return encodeTorrent({ ...parseTorrent(torrent), urlList: [] })
}

/** The magnet URI without `ws=` parameters. */
export function magnetWithoutWebSeeds (magnet: string): string {
  const [head, query = ''] = magnet.split('?', 2)
  return `${head}?${query.split('&').filter((parameter) => !parameter.startsWith('ws=')).join('&')}`
}
