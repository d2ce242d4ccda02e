import { aria2Downloader } from './aria2.js'
import type { Downloader } from './downloader.js'
import { libtorrentDownloader } from './libtorrent.js'
import { qbittorrentDownloader } from './qbittorrent.js'
import { transmissionDownloader } from './transmission.js'

/** Every real client the interop tests drive. */
export const downloaders: readonly Downloader[] = [aria2Downloader, libtorrentDownloader, qbittorrentDownloader, transmissionDownloader]
