import { once } from 'node:events'
import test from 'ava'
import utMetadata, { type UtMetadata } from 'ut_metadata'
import { eventually } from '../hardware/eventually.js'
import { OUR_PEER_ID, torrentWithMetadata, wirePair } from './wire-pair.js'

// The behaviour of ut_metadata (BEP 9) that appliance/seeder/peer-wire.ts relies on, driven through
// PeerWire against a real bittorrent-protocol Wire: an upgrade that changes one fails here.

test('metadata_size: attached with wire.use from the handshake call back, ut_metadata puts the info dictionary\'s length in the extended handshake, incoming and outgoing', async (t) => {
  for (const direction of ['incoming', 'outgoing'] as const) {
    const pair = wirePair(t, {
      direction,
      metainfo: torrentWithMetadata(2),
      onHandshake: ({ ours, metainfo }) => {
        ours.describe({ infoBytes: metainfo.infoBytes, clientName: 'evertorrent contract', maxRequests: 250, pex: false })
        if (direction === 'incoming') ours.sendHandshake(metainfo.infoHash, OUR_PEER_ID, false)
      }
    })
    await eventually(t, () => 'm' in pair.remote.peerExtendedHandshake, true, `${direction}: the remote got our extended handshake`)
    t.is(pair.remote.peerExtendedHandshake.metadata_size, pair.metainfo.infoBytes.length, direction)
  }
})

test('serving: a peer fetching the metadata gets the info dictionary byte for byte, 16 KiB a piece, each request reported to us once', async (t) => {
  const metainfo = torrentWithMetadata(3)
  const pair = wirePair(t, {
    metainfo,
    onHandshake: ({ ours }) => {
      ours.describe({ infoBytes: metainfo.infoBytes, clientName: 'evertorrent contract', maxRequests: 250, pex: false })
      ours.sendHandshake(metainfo.infoHash, OUR_PEER_ID, false)
    }
  })
  pair.remote.use(utMetadata())
  const fetcher = (pair.remote as unknown as { ut_metadata: UtMetadata }).ut_metadata
  fetcher.fetch()
  await once(fetcher, 'metadata')
  t.true(Buffer.from(fetcher.metadata!).equals(metainfo.infoBytes))
  t.is(pair.heard.metadataMessages, 3)
})
