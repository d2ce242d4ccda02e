import test from 'ava'
import { NO_EXTENSIONS, readPeerExtensions } from '../../appliance/seeder/peer-extensions.js'

test('reads p, m.ut_pex, e and upload_only from a well-formed handshake', (t) => {
  t.deepEqual(readPeerExtensions({ m: { ut_pex: 2, ut_metadata: 3 }, p: 51413, e: 1, upload_only: 1, v: Buffer.from('qBittorrent') }),
    { listenPort: 51413, pexId: 2, prefersEncryption: true, uploadOnly: true })
  t.deepEqual(readPeerExtensions({ m: {} }), NO_EXTENSIONS)
})

test('any other shape counts as absent, never as an error', (t) => {
  for (const hostile of [undefined, null, 5, Buffer.from('d1:pi1ee'), [1, 2], { m: [1] }, { m: Buffer.from('ut_pex') }]) {
    t.deepEqual(readPeerExtensions(hostile), NO_EXTENSIONS, JSON.stringify(hostile))
  }
  const wrong = readPeerExtensions({ p: Buffer.from('6881'), m: { ut_pex: Buffer.from('1') }, e: Buffer.from('1'), upload_only: 2 })
  t.deepEqual(wrong, NO_EXTENSIONS)
})

test('ports and message ids out of range count as absent: ut_pex 0 turns PEX off (BEP 10), ids are one byte', (t) => {
  for (const p of [0, -1, 65536, 1.5, 2 ** 53]) t.is(readPeerExtensions({ p }).listenPort, undefined, `p ${p}`)
  t.is(readPeerExtensions({ p: 65535 }).listenPort, 65535)
  for (const id of [0, 256, -3, 2.5]) t.is(readPeerExtensions({ m: { ut_pex: id } }).pexId, undefined, `ut_pex ${id}`)
  t.is(readPeerExtensions({ m: { ut_pex: 255 } }).pexId, 255)
})
