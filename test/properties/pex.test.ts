import test from 'ava'
import bencode from 'bencode'
import fc from 'fast-check'
import { readPeerExtensions } from '../../appliance/seeder/peer-extensions.js'
import { PexFeed, pexKey, type PexView } from '../../appliance/seeder/pex-feed.js'
import { encodePexMessage, MAX_PEX_ADDED, MAX_PEX_DROPPED, type PexPeer } from '../../appliance/seeder/pex-message.js'
import { propertyOptions } from './properties.js'

/** Any value bencode decodes to: integers, byte strings, lists and dictionaries, nested. */
const decoded = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, fc.integer(), fc.uint8Array({ maxLength: 8 }), fc.array(tie('value'), { maxLength: 4 }), fc.dictionary(fc.constantFrom('m', 'p', 'e', 'upload_only', 'ut_pex', 'v'), tie('value'), { maxKeys: 5 }))
})).value

test('any decoded extended handshake reads without throwing, as a port in 1..65535, a one-byte id and two booleans, or absent', (t) => {
  fc.assert(fc.property(decoded, (value) => {
    const read = readPeerExtensions(value)
    const port = read.listenPort
    const id = read.pexId
    return (port === undefined || (Number.isInteger(port) && port >= 1 && port <= 65535)) &&
      (id === undefined || (Number.isInteger(id) && id >= 1 && id <= 255)) &&
      typeof read.prefersEncryption === 'boolean' && typeof read.uploadOnly === 'boolean'
  }), propertyOptions(2000))
  t.pass()
})

const peer = fc.record({ ip: fc.ipV4(), port: fc.integer({ min: 1, max: 65535 }) })
const swarmChanges = fc.array(fc.uniqueArray(peer, { maxLength: 130, selector: (p) => `${p.ip}:${p.port}` }), { minLength: 1, maxLength: 8 })

test('whatever the swarm does, each message keeps the caps, encodes, never repeats an added peer unless it was dropped, and the peer ends up told of the swarm as it is', (t) => {
  fc.assert(fc.property(swarmChanges, (swarms) => {
    const feed = new PexFeed()
    const told = new Set<string>()
    let now = 0
    const last = swarms.at(-1)!
    const views = [...swarms, ...Array<typeof last>(8).fill(last)]
    for (const swarm of views) {
      const view: PexView = new Map(swarm.map((address): [string, PexPeer] => [pexKey(address), { address, flags: 0 }]))
      const update = feed.next(now, view, undefined)
      now += 60_000
      if (update === undefined) continue
      if (update.added.length > MAX_PEX_ADDED || update.dropped.length > MAX_PEX_DROPPED) return false
      encodePexMessage(update)
      for (const address of update.dropped) if (!told.delete(pexKey(address))) return false
      for (const added of update.added) {
        if (told.has(pexKey(added.address))) return false
        told.add(pexKey(added.address))
      }
    }
    return told.size === new Set(last.map(pexKey)).size && last.every((address) => told.has(pexKey(address)))
  }), propertyOptions(300))
  t.pass()
})

test('any message decodes as bencode with byte strings of whole compact entries', (t) => {
  fc.assert(fc.property(fc.array(peer, { maxLength: MAX_PEX_ADDED }), fc.array(peer, { maxLength: MAX_PEX_DROPPED }), (added, dropped) => {
    const message = bencode.decode(encodePexMessage({ added: added.map((address) => ({ address, flags: 1 })), dropped })) as Record<string, Uint8Array>
    return message.added!.length === 6 * added.length && message['added.f']!.length === added.length && message.dropped!.length === 6 * dropped.length
  }), propertyOptions(300))
  t.pass()
})
