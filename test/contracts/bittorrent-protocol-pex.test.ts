import { once } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import test from 'ava'
import { eventually } from '../hardware/eventually.js'
import { OUR_PEER_ID, wirePair, type WirePair } from './wire-pair.js'

// What appliance/seeder/peer-wire.ts relies on for BEP 11 peer exchange: a class `use`d with `ut_pex`
// on its prototype lands in our BEP 10 `m`; the peer's extended handshake (the first and later ones)
// is on `peerExtendedHandshake` when 'extended' reports it; `extended(id, bytes)` sends the bytes as
// they are under the peer's id; the peer's ut_pex messages go to the class and nowhere else.

/** Long enough for anything a wire would send in answer to have been sent. */
const QUIET_MS = 50

function pexPair (t: Parameters<typeof wirePair>[0], pex: boolean): WirePair {
  return wirePair(t, {
    onHandshake: ({ ours, metainfo }) => {
      ours.describe({ infoBytes: metainfo.infoBytes, clientName: 'evertorrent contract', maxRequests: 250, pex })
      ours.sendHandshake(metainfo.infoHash, OUR_PEER_ID, false)
    }
  })
}

test('describe with pex puts ut_pex in our m dictionary, next to ut_metadata; without, it is not there', async (t) => {
  for (const pex of [true, false]) {
    const pair = pexPair(t, pex)
    await eventually(t, () => 'm' in pair.remote.peerExtendedHandshake, true, 'the remote got our extended handshake')
    const m = pair.remote.peerExtendedHandshake.m as Record<string, number>
    t.true(m.ut_metadata! > 0)
    if (pex) t.true(m.ut_pex! > 0 && m.ut_pex !== m.ut_metadata, 'ut_pex has an id of its own')
    else t.false('ut_pex' in m)
  }
})

test('the peer\'s extended handshakes reach extensions(), read; sendPex goes out under the id the latest one gave, as the bytes given', async (t) => {
  const pair = pexPair(t, true)
  await eventually(t, () => pair.heard.extensions.length, 1, 'the remote\'s own extended handshake was read')
  t.is(pair.heard.extensions[0]!.pexId, undefined, 'a plain Wire takes no PEX')
  pair.ours.sendPex(Uint8Array.of(1, 2, 3))

  pair.remote.extended(0, { m: { ut_pex: 7 }, p: 51413, e: 1, upload_only: 1 })
  await eventually(t, () => pair.heard.extensions.length, 2, 'a later extended handshake is read too')
  t.deepEqual(pair.heard.extensions[1], { listenPort: 51413, pexId: 7, prefersEncryption: true, uploadOnly: true })
  const received = once(pair.remote, 'extended')
  const payload = Uint8Array.of(0x64, 0x65)
  pair.ours.sendPex(payload)
  const [ext, bytes] = await received as [number, Uint8Array]
  t.is(ext, 7)
  t.deepEqual(Buffer.from(bytes), Buffer.from(payload))

  pair.remote.extended(0, { m: { ut_pex: 0 } })
  await eventually(t, () => pair.heard.extensions.length, 3, 'the peer turned PEX off')
  const sent = pair.heard.output.length
  pair.ours.sendPex(payload)
  await sleep(QUIET_MS)
  t.is(pair.heard.output.length, sent, 'nothing goes to a peer that turned ut_pex off')
})

test('a ut_pex message from the peer, well-formed or not, is dropped: no violation, nothing reported, the wire goes on', async (t) => {
  const pair = pexPair(t, true)
  await eventually(t, () => 'm' in pair.remote.peerExtendedHandshake, true, 'the remote got our extended handshake')
  const ourId = (pair.remote.peerExtendedHandshake.m as Record<string, number>).ut_pex!
  for (const payload of [Buffer.from('d5:added6:abcdefe'), Buffer.from('not bencode at all'), Buffer.from('d5:addedi42ee'), Buffer.alloc(0)]) {
    pair.remote.extended(ourId, payload)
  }
  pair.remote.interested()
  await eventually(t, () => pair.heard.interestChanges, 1, 'a message after them is still heard')
  t.is(pair.heard.violations, 0)
  t.is(pair.heard.metadataMessages, 0)
})
