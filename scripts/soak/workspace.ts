/**
 * The soak's temporary world: a library folder with a few items of random data (and the sha256 of
 * every file, to check what clients download), the config file of `evertorrent serve`, its state
 * folder and home.
 */
import { createHash } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { stringify } from 'smol-toml'
import { writeTree } from '../../test/helpers/content.js'

const KiB = 1024
const MiB = 1024 * KiB

/** A published item as a client downloads it: its files by path under the download folder. */
export interface ExpectedItem {
  readonly name: string
  /** Relative path (the item's name first) → sha256 in hex. */
  readonly files: ReadonlyMap<string, string>
  readonly bytes: number
  readonly onDrive: boolean
}

export interface Workspace {
  readonly root: string
  readonly library: string
  readonly stateDir: string
  readonly configPath: string
  /** HOME of the service (it writes nothing there, but nothing of the soak may reach the real one). */
  readonly home: string
  readonly downloads: string
  readonly items: readonly ExpectedItem[]
}

/** Library items: a large file, a folder of small files, a medium file. */
const LIBRARY_FILES: Readonly<Record<string, number>> = {
  'big.bin': 64 * MiB,
  'medium.bin': 16 * MiB,
  ...Object.fromEntries(Array.from({ length: 50 }, (_, index) => [`many/file-${String(index).padStart(2, '0')}.bin`, 2 * KiB + ((index * 7919) % 98) * KiB]))
}

/** What the drive holds: a file and a small folder. */
export const DRIVE_FILES: Readonly<Record<string, number>> = {
  'film.bin': 8 * MiB,
  ...Object.fromEntries(Array.from({ length: 5 }, (_, index) => [`photos/photo-${index}.jpg`, 300 * KiB + index * KiB]))
}

export function prepareWorkspace (root: string): Workspace {
  const library = join(root, 'library')
  const workspace = {
    root,
    library,
    stateDir: join(root, 'state'),
    configPath: join(root, 'evertorrent.toml'),
    home: join(root, 'home'),
    downloads: join(root, 'downloads'),
    items: writeItems(library, LIBRARY_FILES, false)
  }
  for (const folder of [workspace.stateDir, workspace.home, workspace.downloads]) mkdirSync(folder, { recursive: true })
  return workspace
}

/** Writes `files` below `root` (random bytes seeded by each path) and returns them grouped into items. */
export function writeItems (root: string, files: Readonly<Record<string, number>>, onDrive: boolean): ExpectedItem[] {
  const items = new Map<string, { files: Map<string, string>, bytes: number }>()
  for (const [relative, bytes] of writeTree(root, files)) {
    const name = relative.split('/')[0]!
    const item = items.get(name) ?? { files: new Map<string, string>(), bytes: 0 }
    item.files.set(relative, createHash('sha256').update(bytes).digest('hex'))
    item.bytes += bytes.length
    items.set(name, item)
  }
  return [...items].map(([name, item]) => ({ name, files: item.files, bytes: item.bytes, onDrive }))
}

export interface ServeConfig {
  readonly library: string
  readonly stateDir: string
  /** Empty: no drives. */
  readonly mediaRoot: string
  /** The live value each reload changes. */
  readonly uploadSlots: number
}

/**
 * Seconds a new file must stay unchanged before it is published. Short, so the slow copies (a chunk
 * a second) are published soon after they end, but longer than the pause between two chunks.
 */
export const SETTLE_SECONDS = 3

/** The config file: every port free (0), loopback only, LSD off, drives under `mediaRoot`. */
export function writeServeConfig (path: string, config: ServeConfig): void {
  writeFileSync(path, stringify({
    library: { folders: [config.library], media_root: config.mediaRoot, settle_seconds: SETTLE_SECONDS },
    state: { dir: config.stateDir },
    network: { announce_host: '127.0.0.1', listen_host: '127.0.0.1' },
    http: { port: 0 },
    tracker: { port: 0 },
    seeder: { port: 0, local_discovery: false, upload_slots: config.uploadSlots },
    dht: { enabled: false }
  }))
}
