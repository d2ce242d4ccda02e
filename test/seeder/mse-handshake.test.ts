import { randomBytes } from 'node:crypto'
import test from 'ava'
import type { InfoHash } from '../../appliance/metainfo/metainfo.js'
import { CRYPTO_PLAINTEXT, CRYPTO_RC4, MseHandshake, type MseStep } from '../../appliance/seeder/mse/mse-handshake.js'
import { SkeyIndex } from '../../appliance/seeder/mse/skey-index.js'
import { CraftedInitiator } from './mse-peer.js'

const INFO_HASH = randomBytes(20).toString('hex') as InfoHash
const HANDSHAKE = Buffer.concat([Buffer.from('\x13BitTorrent protocol', 'latin1'), Buffer.alloc(8), Buffer.from(INFO_HASH, 'hex'), randomBytes(20)])

function index (...infoHashes: InfoHash[]): SkeyIndex {
  const skeys = new SkeyIndex()
  for (const infoHash of infoHashes) skeys.add(infoHash)
  return skeys
}

function responder (allowed: number, skeys = index(INFO_HASH)): MseHandshake {
  return MseHandshake.responder({ allowed, findTorrent: (hash) => skeys.find(hash) })
}

/** Feeds `bytes` to `side` cut in pieces of `size`, gathering what it sends; stops at the end of its handshake. */
function feed (side: MseHandshake, bytes: Uint8Array, size = bytes.length): MseStep {
  const send: Uint8Array[] = []
  for (let at = 0; at < bytes.length; at += Math.max(1, size)) {
    const step = side.receive(bytes.subarray(at, at + size))
    send.push(...step.send)
    if (step.done !== undefined || step.failed !== undefined) return { ...step, send }
  }
  return { send }
}

interface Outcome { readonly a: MseStep, readonly b: MseStep }

/** Runs a whole handshake between an initiator offering `provide` and a responder allowing `allowed`. */
function handshake (provide: number, allowed: number, size?: number, skeys?: SkeyIndex): Outcome {
  const a = MseHandshake.initiator({ infoHash: INFO_HASH, provide })
  const b = responder(allowed, skeys)
  const b1 = feed(b, a.start(), size)
  const a1 = feed(a, Buffer.concat(b1.send), size)
  const b2 = feed(b, Buffer.concat(a1.send), size)
  if (b2.failed !== undefined) return { a: a1, b: b2 }
  const a2 = feed(a, Buffer.concat(b2.send), size)
  return { a: a2, b: b2 }
}

test('both sides agree on RC4 and the infohash, however the bytes are cut', (t) => {
  for (const size of [1, 7, 100, 10_000]) {
    const { a, b } = handshake(CRYPTO_RC4 | CRYPTO_PLAINTEXT, CRYPTO_RC4 | CRYPTO_PLAINTEXT, size)
    t.is(a.done?.method, 'rc4')
    t.is(b.done?.method, 'rc4')
    t.is(b.done?.infoHash, INFO_HASH)
    const message = randomBytes(1000)
    t.deepEqual(b.done!.ciphers!.decrypt.apply(a.done!.ciphers!.encrypt.apply(Buffer.from(message))), message, 'A to B')
    t.deepEqual(a.done!.ciphers!.decrypt.apply(b.done!.ciphers!.encrypt.apply(Buffer.from(message))), message, 'B to A')
  }
})

test('plaintext is chosen only when one side allows nothing else', (t) => {
  t.is(handshake(CRYPTO_PLAINTEXT, CRYPTO_RC4 | CRYPTO_PLAINTEXT).b.done?.method, 'plaintext')
  t.is(handshake(CRYPTO_RC4 | CRYPTO_PLAINTEXT, CRYPTO_PLAINTEXT).a.done?.method, 'plaintext')
  t.is(handshake(CRYPTO_PLAINTEXT, CRYPTO_RC4).b.failed, 'mse-no-method', 'a responder that requires RC4 refuses a plaintext-only offer')
})

test('an unknown torrent ends the handshake; the index follows additions and removals', (t) => {
  const other = randomBytes(20).toString('hex') as InfoHash
  t.is(handshake(CRYPTO_RC4, CRYPTO_RC4, undefined, index(other)).b.failed, 'unknown-torrent')
  const skeys = index(other, INFO_HASH)
  t.is(handshake(CRYPTO_RC4, CRYPTO_RC4, undefined, skeys).b.done?.infoHash, INFO_HASH)
  skeys.remove(INFO_HASH)
  t.is(skeys.size, 1)
  t.is(handshake(CRYPTO_RC4, CRYPTO_RC4, undefined, skeys).b.failed, 'unknown-torrent')
})

test('the IA (Transmission puts its handshake there) and the payload behind it come out deciphered, in order', (t) => {
  const a = new CraftedInitiator(INFO_HASH)
  const b = responder(CRYPTO_RC4)
  const step2 = Buffer.concat(feed(b, a.step1()).send)
  const payload = randomBytes(300)
  const done = feed(b, a.step3(step2, { ia: HANDSHAKE, padC: 37, after: payload })).done
  t.is(done?.method, 'rc4')
  t.deepEqual(done?.received, Buffer.concat([HANDSHAKE, payload]))
})

test('hostile bytes end the handshake with a reason, never a throw', (t) => {
  t.is(feed(responder(CRYPTO_RC4), randomBytes(96 + 600)).failed, 'mse-no-sync', 'garbage: no req1 within 512 bytes of padding')
  t.is(feed(responder(CRYPTO_RC4), Buffer.alloc(96 + 600)).failed, 'mse-bad-key', 'a public key of 0')
  for (const [options, reason] of [[{ vc: Buffer.alloc(8, 1) }, 'mse-bad-vc'], [{ padC: 513 }, 'mse-bad-pad'], [{ padC: 65535 }, 'mse-bad-pad']] as const) {
    const a = new CraftedInitiator(INFO_HASH)
    const b = responder(CRYPTO_RC4)
    t.is(feed(b, a.step3(Buffer.concat(feed(b, a.step1()).send), options)).failed, reason)
  }
  const initiator = MseHandshake.initiator({ infoHash: INFO_HASH, provide: CRYPTO_RC4 })
  const yb = Buffer.concat(feed(responder(CRYPTO_RC4), initiator.start()).send)
  t.is(feed(initiator, Buffer.concat([yb.subarray(0, 96), randomBytes(600)])).failed, 'mse-no-sync', 'an initiator finds no encrypted VC in garbage')
})
