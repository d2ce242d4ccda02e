import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto'
import { mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { writeFileAtomic } from '../platform/atomic-write.js'
import { IdentityError } from './errors.js'

/** The box's identity: an ed25519 key pair (BEP 44's signature scheme). Followers know the box by its public key. */
export interface BoxKey {
  /** The raw 32-byte ed25519 public key. */
  readonly publicKey: Buffer
  /** `publicKey` as 64 hex digits: what a follower is given. */
  readonly publicKeyHex: string
  /** The 64-byte ed25519 signature of `message`. */
  readonly sign: (message: Uint8Array) => Buffer
}

export const KEY_FILE = 'identity.key'
/** Bytes of the key file read at most: a PKCS #8 PEM ed25519 key takes 119. */
const MAX_KEY_FILE_BYTES = 4096

/**
 * The box's key pair from `<stateDir>/identity.key`, generated there on the first start (PKCS #8
 * PEM, mode 0600, written atomically). A damaged file is an error, never silently replaced: the
 * key is how followers know this box, and a new one would leave them following no one.
 */
export async function loadOrCreateBoxKey (stateDir: string): Promise<BoxKey> {
  const file = join(stateDir, KEY_FILE)
  const text = await readKeyFile(file)
  if (text !== undefined) return boxKeyOf(parsePrivateKey(text, file))
  const { privateKey } = generateKeyPairSync('ed25519')
  try {
    await mkdir(stateDir, { recursive: true })
    await writeFileAtomic(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 })
  } catch (error) {
    throw new IdentityError('ET_IDENTITY_IO', `cannot save the box's new key in ${file}: ${reasonOf(error)}`, { path: file, cause: error })
  }
  return boxKeyOf(privateKey)
}

/** The BoxKey of an ed25519 private key. */
export function boxKeyOf (privateKey: KeyObject): BoxKey {
  const publicKey = rawPublicKey(createPublicKey(privateKey))
  return {
    publicKey,
    publicKeyHex: publicKey.toString('hex'),
    // Ed25519 hashes the message itself: no digest algorithm is named.
    sign: (message) => sign(null, message, privateKey)
  }
}

/** The raw 32 bytes of an ed25519 public key (the JWK's `x`). */
export function rawPublicKey (publicKey: KeyObject): Buffer {
  return Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url')
}

async function readKeyFile (file: string): Promise<string | undefined> {
  let bytes: Buffer
  try {
    bytes = await readFile(file)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new IdentityError('ET_IDENTITY_IO', `cannot read the box's key ${file}: ${reasonOf(error)}`, { path: file, cause: error })
  }
  if (bytes.length > MAX_KEY_FILE_BYTES) throw damaged(file, `larger than ${MAX_KEY_FILE_BYTES} bytes`)
  return bytes.toString('latin1')
}

function parsePrivateKey (text: string, file: string): KeyObject {
  let key: KeyObject
  try {
    key = createPrivateKey({ key: text, format: 'pem' })
  } catch {
    throw damaged(file, 'not a PEM private key')
  }
  if (key.asymmetricKeyType !== 'ed25519') throw damaged(file, `a ${key.asymmetricKeyType ?? 'unknown'} key, not ed25519`)
  return key
}

function damaged (file: string, why: string): IdentityError {
  return new IdentityError('ET_IDENTITY_DAMAGED',
    `the box's key ${file} is damaged (${why}). It is the identity followers know this box by, so it is not replaced: ` +
    'restore it from a backup, or, to start over under a new identity (every follower must then be given the new public key), delete it and start again',
    { path: file })
}

function reasonOf (error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? (error instanceof Error ? error.message : String(error))
}
