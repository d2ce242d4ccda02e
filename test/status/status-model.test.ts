import test from 'ava'
import { once } from 'node:events'
import { StatusModel } from '../../appliance/status/status-model.js'

const item = { path: '/lib/film', name: 'film', library: '/lib' }

test('items, peers, uploads and swarm counts fold into one snapshot with totals', async (t) => {
  const model = new StatusModel(Date.now, 10)
  t.teardown(() => model.close())
  model.item({ ...item, state: 'hashing', bytesHashed: 50, totalBytes: 100 })
  t.is(model.snapshot().totals.hashing, 1)
  model.item({ ...item, state: 'seeding', infoHash: 'aa'.repeat(20) as never, totalBytes: 100 })
  model.peers('aa'.repeat(20), 1)
  model.peers('aa'.repeat(20), 1)
  model.peers('aa'.repeat(20), -1)
  model.uploaded('aa'.repeat(20), 4096)
  model.swarm('aa'.repeat(20), { seeders: 0, leechers: 3, completed: 2 })

  const [snapshot] = await once(model, 'change') as [ReturnType<StatusModel['snapshot']>]
  t.is(snapshot.totals.items, 1)
  t.is(snapshot.totals.seeding, 1)
  t.is(snapshot.totals.bytesPublished, 100)
  t.is(snapshot.totals.bytesUploaded, 4096)
  t.is(snapshot.totals.peers, 1)
  t.deepEqual(snapshot.items[0]!.swarm, { seeders: 0, leechers: 3, completed: 2 })
  t.is(snapshot.items[0]!.uploadedBytes, 4096)
  t.truthy(snapshot.lastUploadAt)
})

test('an offline item keeps its torrent but shows offline; a removed one is gone', (t) => {
  const model = new StatusModel(Date.now, 10)
  t.teardown(() => model.close())
  model.item({ ...item, state: 'seeding', infoHash: 'bb'.repeat(20) as never, totalBytes: 10 })
  model.item({ ...item, state: 'offline', infoHash: 'bb'.repeat(20) as never, totalBytes: 10 })
  t.is(model.snapshot().items[0]!.state, 'offline')
  t.is(model.snapshot().items[0]!.infoHash, 'bb'.repeat(20))
  t.is(model.snapshot().totals.bytesPublished, 0)
  model.itemRemoved(item.path)
  t.deepEqual(model.snapshot().items, [])
})

test('changes are coalesced: many updates, one change event', async (t) => {
  const model = new StatusModel(Date.now, 30)
  t.teardown(() => model.close())
  let events = 0
  model.on('change', () => { events += 1 })
  for (let index = 0; index < 100; index++) model.uploaded('cc'.repeat(20), 1)
  await new Promise((resolve) => setTimeout(resolve, 100))
  t.is(events, 1)
})
