import type { ExecutionContext } from 'ava'
import { Catalog, type PublishedTorrent } from '../../appliance/catalog/catalog.js'
import { Seeder } from '../../appliance/seeder/seeder.js'
import { seederOptionsFrom, type SeederOptions } from '../../appliance/seeder/seeder-options.js'
import { DEFAULTS } from '../helpers/defaults.js'

/**
 * A started seeder on 127.0.0.1 with an ephemeral port, LSD off unless the test turns it on (on
 * loopback only), closed when the test ends.
 */
export async function startSeeder (t: ExecutionContext, torrents: readonly PublishedTorrent[], options: Partial<SeederOptions> = {}): Promise<{ seeder: Seeder, catalog: Catalog }> {
  const catalog = options.catalog ?? new Catalog()
  for (const torrent of torrents) catalog.add(torrent)
  const seeder = new Seeder({ ...seederOptionsFrom(DEFAULTS), port: 0, host: '127.0.0.1', lsd: false, ...options, catalog })
  t.teardown(async () => await seeder.close())
  await seeder.start()
  return { seeder, catalog }
}
