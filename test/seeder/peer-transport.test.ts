import { randomBytes } from 'node:crypto'
import test from 'ava'
import type { InfoHash } from '../../appliance/metainfo/metainfo.js'
import { CRYPTO_PLAINTEXT, CRYPTO_RC4, req2Hash } from '../../appliance/seeder/mse/mse-handshake.js'
import { PeerTransport, type TransportListener, type TransportStart } from '../../appliance/seeder/peer-transport.js'
import type { DisconnectReason } from '../../appliance/seeder/seeder-events.js'
import type { EncryptionPolicy } from '../../appliance/seeder/seeder-options.js'

const INFO_HASH = randomBytes(20).toString('hex') as InfoHash
const HANDSHAKE = Buffer.concat([Buffer.from('\x13BitTorrent protocol', 'latin1'), Buffer.alloc(8), Buffer.from(INFO_HASH, 'hex'), randomBytes(20)])

interface Heard {
  readonly written: Uint8Array[]
  readonly streamed: Buffer[]
  opened: number
  failed: DisconnectReason | undefined
}

function transport (start: TransportStart): { transport: PeerTransport, heard: Heard, listener: TransportListener } {
  const heard: Heard = { written: [], streamed: [], opened: 0, failed: undefined }
  const listener: TransportListener = {
    write: (bytes) => heard.written.push(bytes),
    stream: (chunk) => heard.streamed.push(Buffer.from(chunk)),
    opened: () => { heard.opened++ },
    failed: (reason) => { heard.failed ??= reason }
  }
  return { transport: new PeerTransport(start, listener), heard, listener }
}

const incoming = (policy: EncryptionPolicy): TransportStart => ({
  direction: 'incoming',
  policy,
  findTorrent: (hash) => Buffer.from(hash).equals(req2Hash(INFO_HASH)) ? INFO_HASH : undefined
})

test('incoming plaintext is recognised however its first 20 bytes are cut, and streamed whole', (t) => {
  for (const policy of ['prefer', 'off'] as const) {
    const { transport: side, heard } = transport(incoming(policy))
    for (const byte of HANDSHAKE) side.receive(Buffer.from([byte]))
    t.deepEqual(Buffer.concat(heard.streamed), HANDSHAKE, policy)
    t.is(heard.failed, undefined)
    t.false(side.encrypted)
  }
})

test('require: a plaintext handshake fails once its protocol string is complete, and nothing is streamed', (t) => {
  const { transport: side, heard } = transport(incoming('require'))
  side.receive(HANDSHAKE.subarray(0, 19))
  t.is(heard.failed, undefined, 'not yet: 19 bytes could still be the start of a public key')
  side.receive(HANDSHAKE.subarray(19))
  t.is(heard.failed, 'plaintext-refused')
  t.deepEqual(heard.streamed, [])
})

test('off: bytes that are not plaintext go to the stream as they are, for the framer to refuse', (t) => {
  const { transport: side, heard } = transport(incoming('off'))
  const bytes = randomBytes(96)
  side.receive(bytes)
  t.deepEqual(Buffer.concat(heard.streamed), bytes)
  t.deepEqual(heard.written, [])
})

test('a dialling and an answering transport agree over MSE, then carry the stream both ways, ciphered on the line', (t) => {
  for (const [provide, policy, rc4] of [[CRYPTO_RC4 | CRYPTO_PLAINTEXT, 'prefer', true], [CRYPTO_RC4, 'require', true], [CRYPTO_PLAINTEXT, 'prefer', false]] as const) {
    const a = transport({ direction: 'outgoing', infoHash: INFO_HASH, provide })
    const b = transport(incoming(policy))
    let aSent = 0
    let bSent = 0
    const pump = (): void => {
      while (aSent < a.heard.written.length || bSent < b.heard.written.length) {
        while (aSent < a.heard.written.length) b.transport.receive(Buffer.from(a.heard.written[aSent++]!))
        while (bSent < b.heard.written.length) a.transport.receive(Buffer.from(b.heard.written[bSent++]!))
      }
    }
    a.transport.begin()
    pump()
    t.is(a.heard.opened, 1, 'the dialling side may send its handshake')
    t.is(b.transport.mseInfoHash, INFO_HASH)
    t.is(a.transport.encrypted, rc4)
    t.is(b.transport.encrypted, rc4)
    const block = randomBytes(16384)
    const line = a.transport.seal(Buffer.from(block), true)
    t.is(Buffer.from(line).equals(block), !rc4, rc4 ? 'ciphered on the line' : 'plaintext on the line')
    b.transport.receive(Buffer.from(line))
    t.deepEqual(Buffer.concat(b.heard.streamed), block)
    const header = Buffer.from([0, 0, 0, 1, 2])
    const sealed = b.transport.seal(header, false)
    t.deepEqual(header, Buffer.from([0, 0, 0, 1, 2]), 'a chunk that is not ours is left as it was')
    a.transport.receive(Buffer.from(sealed))
    t.deepEqual(Buffer.concat(a.heard.streamed), header)
  }
})

test('a plaintext dial opens at once and writes nothing of its own', (t) => {
  const { transport: side, heard } = transport({ direction: 'outgoing', infoHash: INFO_HASH })
  side.begin()
  t.is(heard.opened, 1)
  t.deepEqual(heard.written, [])
  t.false(side.inMse)
})
