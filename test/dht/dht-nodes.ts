import { createPublicKey, verify } from 'node:crypto'
import DHT from 'bittorrent-dht'
import type { Teardown } from '../helpers/teardown.js'

/** A plain bittorrent-dht node of the test's own (a bootstrap node, or one of a small DHT), on a loopback address. */
export interface TestNode {
  readonly dht: DHT
  /** `host:port`, as `dht.bootstrap` takes it. */
  readonly address: string
  /** Infohashes (hex) announced to this node, with the peer each announce named. */
  readonly announces: Array<{ readonly infoHash: string, readonly host: string, readonly port: number }>
  readonly close: () => Promise<void>
}

/**
 * An ed25519 check of a BEP 44 item, written here with Node's crypto alone (not the appliance's), so
 * the test's nodes store and answer mutable items as the mainline DHT's (libtorrent's) do.
 */
export function ed25519Verify (signature: Buffer, message: Buffer, publicKey: Buffer): boolean {
  try {
    return verify(null, message, createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: publicKey.toString('base64url') }, format: 'jwk' }), signature)
  } catch {
    return false
  }
}

/**
 * Starts a DHT node on `host` (a free UDP port), joined through `bootstrap` (none: it is the
 * bootstrap node); closed when the test ends, or earlier by `close`. It takes BEP 44 items.
 */
export async function startTestNode (t: Teardown, host: string, bootstrap: readonly string[] = []): Promise<TestNode> {
  const dht = new DHT({ bootstrap: bootstrap.length === 0 ? false : [...bootstrap], host: false, verify: ed25519Verify })
  const announces: Array<{ infoHash: string, host: string, port: number }> = []
  dht.on('announce', (peer: { host: string, port: number }, infoHash: Buffer) => announces.push({ infoHash: infoHash.toString('hex'), host: peer.host, port: peer.port }))
  // Listened for at once: on loopback the first join can end before `listen` calls back.
  const ready = new Promise<void>((resolve) => dht.once('ready', () => resolve()))
  await new Promise<void>((resolve, reject) => {
    dht.once('error', reject)
    dht.listen(0, host, () => resolve())
  })
  const close = async (): Promise<void> => {
    if (!dht.destroyed) await new Promise<void>((resolve) => dht.destroy(() => resolve()))
  }
  t.teardown(close)
  if (bootstrap.length > 0) await ready
  return { dht, address: `${host}:${dht.address().port}`, announces, close }
}

/** Resolves once `check` holds, polling; rejects after `timeoutMs` with `what`. */
export async function eventually (check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}
