// Minimal declarations for ut_metadata 4, which ships none: what appliance/seeder/peer-wire.ts (its
// one user) and the tests call. What the adapter relies on beyond the README is pinned by
// test/contracts/ut-metadata.test.ts.
declare module 'ut_metadata' {
  import type { EventEmitter } from 'node:events'
  import type { ExtensionConstructor } from 'bittorrent-protocol'

  /** The extension as `wire.use` puts it on the wire, at `wire.ut_metadata`. */
  export interface UtMetadata extends EventEmitter {
    /** Asks the peer for the info dictionary; 'metadata' follows once it came and matched the infohash. */
    fetch (): void
    /** The bencoded info dictionary, once known. */
    readonly metadata: Uint8Array | undefined
  }

  /** BEP 9: an extension for `wire.use` that serves (given `metadata`) or fetches the bencoded info dictionary. */
  export default function utMetadata (metadata?: Uint8Array): ExtensionConstructor
}
