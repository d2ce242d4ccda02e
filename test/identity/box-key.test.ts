import { generateKeyPairSync } from 'node:crypto'
import { readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import test from 'ava'
import { KEY_FILE, loadOrCreateBoxKey } from '../../appliance/identity/box-key.js'
import { IdentityError } from '../../appliance/identity/errors.js'
import { verifyMutableSignature } from '../../appliance/dht/mutable-item.js'
import { tempDir } from '../helpers/temp-dir.js'

test('the first start makes a key pair in the state folder, mode 0600; later starts load the same one', async (t) => {
  const state = join(tempDir(t), 'state')
  const first = await loadOrCreateBoxKey(state)
  t.regex(first.publicKeyHex, /^[0-9a-f]{64}$/)
  t.is(first.publicKey.length, 32)
  const file = join(state, KEY_FILE)
  t.is(statSync(file).mode & 0o777, 0o600)
  t.regex(readFileSync(file, 'utf8'), /^-----BEGIN PRIVATE KEY-----\n/)
  const again = await loadOrCreateBoxKey(state)
  t.is(again.publicKeyHex, first.publicKeyHex)
  const message = Buffer.from('3:seqi1e1:v12:Hello World!')
  t.true(verifyMutableSignature(again.sign(message), message, first.publicKey))
  t.false(verifyMutableSignature(again.sign(message), Buffer.from('3:seqi2e1:v12:Hello World!'), first.publicKey))
})

test('a damaged key file is an error that says how to start over, and the file is left as it was', async (t) => {
  const state = tempDir(t)
  const file = join(state, KEY_FILE)
  const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' })
  const good = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' })
  const damaged: Array<[string, string | Buffer]> = [
    ['garbage', 'not a key at all\n'],
    ['empty', ''],
    ['truncated', good.slice(0, 60)],
    ['an RSA key', rsa],
    ['too large', Buffer.alloc(10_000, 0x41)]
  ]
  for (const [what, content] of damaged) {
    writeFileSync(file, content)
    const error = await t.throwsAsync(loadOrCreateBoxKey(state), { instanceOf: IdentityError }, what)
    t.is(error?.code, 'ET_IDENTITY_DAMAGED', what)
    t.is(error?.path, file, what)
    t.regex(error?.message ?? '', /restore it from a backup.*delete it/, what)
    t.deepEqual(readFileSync(file), Buffer.from(content), `${what}: not replaced`)
  }
})

test('a key file that cannot be read is ET_IDENTITY_IO, not a new identity', async (t) => {
  const state = tempDir(t)
  // A folder where the file should be: EISDIR on read.
  const { mkdirSync } = await import('node:fs')
  mkdirSync(join(state, KEY_FILE))
  const error = await t.throwsAsync(loadOrCreateBoxKey(state), { instanceOf: IdentityError })
  t.is(error?.code, 'ET_IDENTITY_IO')
})
