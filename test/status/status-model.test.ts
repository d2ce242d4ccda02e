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

test('one of two drives ejected shows ejected and is not safe to remove yet; with the last one ejected it is, until a drive is mounted', (t) => {
  const model = new StatusModel(Date.now, 10)
  t.teardown(() => model.close())
  const drives = (music: 'present' | 'removed', photos: 'present' | 'removed'): void => {
    model.setLibraries([{ path: '/media/MUSIC', kind: 'drive', state: music }, { path: '/media/PHOTOS', kind: 'drive', state: photos }])
  }
  const states = (): string[] => model.snapshot().libraries.map((library) => library.state)
  drives('present', 'present')
  drives('removed', 'present')
  model.driveEjected('/media/MUSIC')
  t.deepEqual(states(), ['ejected', 'present'])
  t.false(model.snapshot().safeToRemove, 'PHOTOS is still mounted: the one LED must not say "safe to unplug"')

  model.driveEjected('/media/PHOTOS')
  drives('removed', 'removed')
  t.deepEqual(states(), ['ejected', 'ejected'])
  t.true(model.snapshot().safeToRemove)

  drives('present', 'removed')
  t.deepEqual(states(), ['present', 'ejected'])
  t.false(model.snapshot().safeToRemove)
  drives('removed', 'removed')
  t.deepEqual(states(), ['removed', 'ejected'], 'pulled without eject after being mounted again: removed')
})
