import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { PublishedTorrent } from '../../appliance/catalog/catalog.js'
import { createTorrent, type CreateOptions } from '../../appliance/metainfo/create-torrent.js'
import { encodeTorrent } from '../../appliance/metainfo/metainfo.js'

/** Hashes `path` and describes it as the library would publish it. */
export async function publish (path: string, options: CreateOptions = {}): Promise<PublishedTorrent> {
  const { metainfo, content } = await createTorrent(path, options)
  return { metainfo, files: content.files }
}

/** Writes the torrent's .torrent file into `folder` and returns its path. */
export function writeTorrentFile (torrent: PublishedTorrent, folder: string): string {
  const path = join(folder, `${torrent.metainfo.infoHash}.torrent`)
  writeFileSync(path, encodeTorrent(torrent.metainfo))
  return path
}

/** The torrent's content, all files concatenated (BEP 3 order). */
export function contentOf (torrent: PublishedTorrent): Buffer {
  return Buffer.concat(Array.from(torrent.files, (file) => readFileSync(file.absolutePath)))
}

