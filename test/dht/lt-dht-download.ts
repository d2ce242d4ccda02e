import { ltDownload, type LtDownloadResult } from '../seeder/lt-download.js'

export interface LtDhtDownloadResult extends LtDownloadResult {
  readonly dht_nodes: number
}

/** Downloads a magnet link with libtorrent (test/helpers/lt_download.py --dht-bootstrap), its peers found through the DHT alone. */
export async function ltDhtDownload (magnet: string, saveDir: string, options: { bootstrap: string, listen: string, timeoutSeconds?: number }): Promise<LtDhtDownloadResult> {
  return await ltDownload<LtDhtDownloadResult>(magnet, saveDir, [], options.timeoutSeconds ?? 90, ['--dht-bootstrap', options.bootstrap, '--listen', options.listen])
}
