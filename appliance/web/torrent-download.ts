import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Catalog } from '../catalog/catalog.js'
import { encodeTorrent } from '../metainfo/metainfo.js'
import { sendStatus, type RouteHandler, type RouteMatch } from './http-server.js'

/** Route handler for `GET`/`HEAD` on `/torrents/*`: `/torrents/<infohash>.torrent` is that published torrent's file. */
export function torrentDownloadHandler (catalog: Catalog): RouteHandler {
  return (_req: IncomingMessage, res: ServerResponse, match: RouteMatch): void => {
    const infoHash = /^([0-9a-fA-F]{40})\.torrent$/.exec(match.rest)?.[1]?.toLowerCase()
    const torrent = infoHash === undefined ? undefined : catalog.get(infoHash)
    if (torrent === undefined) {
      sendStatus(res, 404)
      return
    }
    const body = encodeTorrent(torrent.metainfo)
    res.writeHead(200, {
      'Content-Type': 'application/x-bittorrent',
      'Content-Length': body.length,
      'Content-Disposition': contentDisposition(`${torrent.metainfo.name}.torrent`)
    })
    res.end(body)
  }
}

/** RFC 6266: an ASCII fallback name plus the exact UTF-8 name (RFC 8187) for browsers that read it. */
function contentDisposition (filename: string): string {
  const fallback = filename.replace(/[^\x20-\x7e]|["\\%]/g, '_')
  const exact = encodeURIComponent(filename).replace(/['()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`)
  return `attachment; filename="${fallback}"; filename*=UTF-8''${exact}`
}
