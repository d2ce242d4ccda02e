import test from 'ava'
import { hashingPattern, looksSame, PATTERNS } from '../../appliance/status/led-pattern.js'
import { activityEndsAt, patternFor } from '../../appliance/status/pattern-for.js'
import type { ItemView, StatusSnapshot } from '../../appliance/status/status-model.js'

const NOW = 1_000_000

function item (state: ItemView['state'], more: Partial<ItemView> = {}): ItemView {
  return { path: `/media/usb/${state}`, name: state, library: '/media/usb', state, peers: 0, uploadRate: 0, uploadedBytes: 0, swarm: { seeders: 0, leechers: 0, completed: 0 }, ...more }
}

function snapshot (more: Partial<StatusSnapshot> = {}): StatusSnapshot {
  const items = more.items ?? []
  return {
    phase: 'running',
    startedAt: 0,
    libraries: [{ path: '/media/usb', kind: 'drive', state: 'present' }],
    items,
    totals: {
      items: items.length,
      seeding: items.filter((one) => one.state === 'seeding').length,
      hashing: items.filter((one) => one.state === 'hashing').length,
      errors: items.filter((one) => one.state === 'error').length,
      bytesPublished: 0,
      bytesUploaded: 0,
      uploadRate: 0,
      peers: 0
    },
    lastUploadAt: undefined,
    safeToRemove: false,
    reachability: { router: { state: 'off', mappings: [] }, dht: { enabled: false, nodes: 0, announced: 0 }, peers: { encrypted: 0, plain: 0 } },
    ...more
  }
}

test('booting and reloading blink evenly at 1 Hz', (t) => {
  t.is(patternFor(snapshot({ phase: 'booting' }), NOW), PATTERNS.booting)
  t.is(patternFor(snapshot({ phase: 'reloading' }), NOW), PATTERNS.booting)
  t.deepEqual([PATTERNS.booting.onMs, PATTERNS.booting.offMs], [500, 500])
})

test('running with nothing to publish is idle: a short blip every 3 s', (t) => {
  t.is(patternFor(snapshot(), NOW), PATTERNS.idle)
  t.is(patternFor(snapshot({ libraries: [] }), NOW), PATTERNS.idle)
  t.deepEqual([PATTERNS.idle.onMs, PATTERNS.idle.offMs], [100, 2900])
})

test('hashing: the lit part of a 3 s blink follows the bytes hashed, in tenths', (t) => {
  const at = (bytesHashed: number): ReturnType<typeof patternFor> =>
    patternFor(snapshot({ items: [item('hashing', { bytesHashed, totalBytes: 1000 }), item('seeding', { totalBytes: 5 })] }), NOW)
  t.is(at(0).name, 'hashing')
  t.deepEqual([at(0).onMs, at(0).offMs], [300, 2700])
  t.deepEqual([at(500).onMs, at(500).offMs], [1500, 1500])
  t.deepEqual([at(1000).onMs, at(1000).offMs], [2700, 300])
  t.is(at(520).onMs, at(590).onMs, 'progress inside one tenth does not reprogram the LED')
  t.is(at(500).progress, 0.5)
})

test('items waiting to be hashed count as hashing, and their bytes as still to do', (t) => {
  const pattern = patternFor(snapshot({ items: [item('hashing', { bytesHashed: 100, totalBytes: 100 }), item('queued', { totalBytes: 300 })] }), NOW)
  t.is(pattern.name, 'hashing')
  t.is(pattern.progress, 0.25)
  t.is(patternFor(snapshot({ items: [item('queued')] }), NOW).progress, 0)
})

test('items waiting for a copy into the library to finish count as hashing too', (t) => {
  const pattern = patternFor(snapshot({ items: [item('hashing', { bytesHashed: 100, totalBytes: 100 }), item('waiting', { totalBytes: 100 }), item('seeding', { totalBytes: 5 })] }), NOW)
  t.is(pattern.name, 'hashing')
  t.is(pattern.progress, 0.5)
})

test('seeding is steady; an upload in the last second makes it flicker', (t) => {
  const seeding = snapshot({ items: [item('seeding')] })
  t.is(patternFor(seeding, NOW), PATTERNS.seeding)
  t.is(PATTERNS.seeding.offMs, 0)
  t.is(patternFor({ ...seeding, lastUploadAt: NOW - 200 }, NOW), PATTERNS['seeding-active'])
  t.is(patternFor({ ...seeding, lastUploadAt: NOW - 1000 }, NOW), PATTERNS.seeding)
  t.is(activityEndsAt({ ...seeding, lastUploadAt: NOW - 200 }, NOW), NOW + 800)
  t.is(activityEndsAt({ ...seeding, lastUploadAt: NOW - 1500 }, NOW), undefined)
})

test('a drive pulled without eject, or an error, blinks fast and outranks hashing and seeding', (t) => {
  const hashing = item('hashing', { bytesHashed: 1, totalBytes: 10 })
  t.is(patternFor(snapshot({ items: [hashing, item('offline')] }), NOW), PATTERNS.attention)
  t.is(patternFor(snapshot({ items: [item('seeding'), item('error')] }), NOW), PATTERNS.attention)
  t.is(patternFor(snapshot({ libraries: [{ path: '/media/usb', kind: 'drive', state: 'removed' }] }), NOW), PATTERNS.attention)
  t.is(patternFor(snapshot({ libraries: [{ path: '/srv/files', kind: 'folder', state: 'missing' }] }), NOW), PATTERNS.attention)
  t.deepEqual([PATTERNS.attention.onMs, PATTERNS.attention.offMs], [100, 100])
})

test('after an eject, safe-to-remove replaces the fault of the pulled drive', (t) => {
  const ejected = snapshot({ libraries: [{ path: '/media/usb', kind: 'drive', state: 'removed' }], items: [item('offline')], safeToRemove: true })
  t.is(patternFor(ejected, NOW), PATTERNS['safe-to-remove'])
  t.is(patternFor({ ...ejected, libraries: [] }, NOW), PATTERNS['safe-to-remove'])
})

test('shutting down outranks everything but the held button', (t) => {
  const busy = snapshot({ items: [item('offline'), item('seeding')] })
  t.is(patternFor({ ...busy, phase: 'stopping' }, NOW), PATTERNS.stopping)
  t.is(patternFor({ ...busy, safeToRemove: true }, NOW, { shuttingDown: true }), PATTERNS.stopping)
  t.is(patternFor(busy, NOW, { shuttingDown: true, hold: 'long' }), PATTERNS['armed-eject'])
})

test('while the button is held the LED shows what letting go would do', (t) => {
  const busy = snapshot({ phase: 'booting' })
  t.is(patternFor(busy, NOW, { hold: 'short' }), PATTERNS.pressed)
  t.is(patternFor(busy, NOW, { hold: 'long' }), PATTERNS['armed-eject'])
  t.is(patternFor(busy, NOW, { hold: 'very-long' }), PATTERNS['armed-shutdown'])
})

test('every pattern looks different from every other on a single LED, except the dark ones', (t) => {
  const all = [...Object.values(PATTERNS), hashingPattern(0), hashingPattern(0.5), hashingPattern(1)]
  for (const a of all) {
    for (const b of all) {
      if (a === b || (a.onMs === 0 && b.onMs === 0)) continue
      t.false(looksSame(a, b), `${a.name} (${a.onMs}/${a.offMs}) and ${b.name} (${b.onMs}/${b.offMs})`)
    }
  }
})

test('paused items are neither work nor fault: the LED shows what the other items call for', (t) => {
  t.is(patternFor(snapshot({ items: [item('paused'), item('seeding')] }), NOW), PATTERNS.seeding)
  t.is(patternFor(snapshot({ items: [item('paused', { totalBytes: 900 })] }), NOW), PATTERNS.idle, 'every item paused: nothing is published')
  t.is(patternFor(snapshot({ items: [item('paused', { totalBytes: 900 }), item('hashing', { bytesHashed: 50, totalBytes: 100 })] }), NOW).progress, 0.5, 'a paused item\'s bytes are not still to do')
})

test('a drive ejected on request, and its offline items, are no fault; one pulled without eject is', (t) => {
  const music = { path: '/media/MUSIC', kind: 'drive' as const }
  const photos = { path: '/media/PHOTOS', kind: 'drive' as const, state: 'present' as const }
  const musicItem = item('offline', { library: music.path })
  t.is(patternFor(snapshot({ libraries: [{ ...music, state: 'ejected' }, photos], items: [musicItem, item('seeding', { library: photos.path })] }), NOW), PATTERNS.seeding)
  t.is(patternFor(snapshot({ libraries: [{ ...music, state: 'removed' }, photos], items: [musicItem, item('seeding', { library: photos.path })] }), NOW), PATTERNS.attention)
  t.is(patternFor(snapshot({ libraries: [{ ...music, state: 'ejected' }, photos], items: [musicItem, item('offline', { library: photos.path })] }), NOW), PATTERNS.attention, 'an offline item of another drive still is')
})
