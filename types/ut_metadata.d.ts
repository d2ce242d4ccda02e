// Minimal declarations for ut_metadata 5, which ships none: only what appliance/seeder/ uses.
declare module 'ut_metadata' {
  import type { ExtensionConstructor } from 'bittorrent-protocol'

  /** BEP 9: an extension for `wire.use` that serves (and could fetch) the bencoded info dictionary. */
  export default function utMetadata (metadata?: Uint8Array): ExtensionConstructor
}
