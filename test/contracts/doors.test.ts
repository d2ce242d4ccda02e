import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import test from 'ava'
import { repoRoot } from '../helpers/repo.js'

// Third-party packages whose internals or undocumented behaviour we rely on are imported by one
// adapter each, whose contract tests sit beside this file; every other package appliance/ imports is
// used through its documented API only. A new package, or a second importer, fails here until it is
// given a place in one list or the other.

/** Package → the files of appliance/ that may import it (one door per engine that needs it). */
const ADAPTERS: Readonly<Record<string, string | readonly string[]>> = {
  // The everseed's wire (serving) and the download engine's (fetching): each door has its contract tests.
  'bittorrent-protocol': ['download/peer-link.ts', 'seeder/peer-wire.ts'],
  ut_metadata: 'seeder/peer-wire.ts',
  'bittorrent-tracker/server': 'tracker/swarm-server.ts',
  'bittorrent-tracker': 'seeder/tracker-announcer.ts',
  'bittorrent-dht': 'dht/dht-node.ts',
  feed: 'web/feed/rss-feed.ts'
}

/** Packages used through their documented API only (and typed by their own declarations, or types/bencode.d.ts). */
const DOCUMENTED_ONLY = ['bencode', 'lean-qr', 'smol-toml']

function sources (folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name)
    if (entry.isDirectory()) return sources(path)
    return entry.name.endsWith('.ts') ? [path] : []
  })
}

/** Every package (not `node:`, not relative) each source file of appliance/ imports, statically or dynamically. */
function packageImports (): Array<{ file: string, name: string }> {
  const appliance = join(repoRoot, 'appliance')
  return sources(appliance).flatMap((path) => {
    const text = readFileSync(path, 'utf8')
    const names = [...text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*)'([^'.][^']*)'/g)].map((match) => match[1]!)
    return names.filter((name) => !name.startsWith('node:')).map((name) => ({ file: relative(appliance, path), name }))
  })
}

test('each package we rely on beyond its documentation is imported by its adapter alone', (t) => {
  const imports = packageImports()
  for (const [name, adapter] of Object.entries(ADAPTERS)) {
    t.deepEqual([...new Set(imports.filter((found) => found.name === name).map((found) => found.file))].sort(), typeof adapter === 'string' ? [adapter] : adapter, name)
  }
})

test('every other package appliance/ imports is on the documented-API-only list', (t) => {
  const others = new Set(packageImports().map((found) => found.name).filter((name) => !(name in ADAPTERS)))
  t.deepEqual([...others].sort(), DOCUMENTED_ONLY)
})
