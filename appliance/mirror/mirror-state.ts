import { readFile } from 'node:fs/promises'
import { writeFileAtomic } from '../platform/atomic-write.js'
import type { MirroredItem } from './mirror-plan.js'

/** One file of a completed item as it was when verified: a restart trusts it while size and mtime match. */
export interface HeldFile {
  /** Below the item's folder (`<mirror folder>/<infohash>/`). */
  readonly path: string
  readonly size: number
  readonly mtimeMs: number
}

/** What a mirror remembers between polls and restarts (`<state dir>/mirrors/<id>.json`). */
export interface MirrorState {
  readonly origin: string
  readonly items: readonly MirroredItem[]
  /** The completed, verified items, by infohash. */
  readonly complete: Readonly<Record<string, readonly HeldFile[]>>
}

export const MAX_STATE_ITEMS = 10_000
const MAX_STATE_FILE_BYTES = 64 * 1024 * 1024
const INFO_HASH = /^[0-9a-f]{40}$/

/** The state in `file`; an empty one when there is none or it is not this origin's. A damaged file is refused. */
export async function readMirrorState (file: string, origin: string): Promise<MirrorState | { readonly refused: string }> {
  let text: string
  try {
    const bytes = await readFile(file)
    if (bytes.length > MAX_STATE_FILE_BYTES) return { refused: `larger than ${MAX_STATE_FILE_BYTES} bytes` }
    text = bytes.toString('utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { origin, items: [], complete: {} }
    throw error
  }
  return parseMirrorState(text, origin)
}

export function parseMirrorState (text: string, origin: string): MirrorState | { readonly refused: string } {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return { refused: 'not JSON' }
  }
  if (!isObject(value) || value.version !== 1 || !Array.isArray(value.items) || !isObject(value.complete)) return { refused: 'not {"version": 1, "items": […], "complete": {…}}' }
  if (value.origin !== origin) return { origin, items: [], complete: {} }
  if (value.items.length > MAX_STATE_ITEMS) return { refused: `more than ${MAX_STATE_ITEMS} items` }
  const items: MirroredItem[] = []
  for (const item of value.items as unknown[]) {
    if (!isObject(item) || typeof item.infoHash !== 'string' || !INFO_HASH.test(item.infoHash) || typeof item.name !== 'string' ||
      !isCount(item.bytes) || !isCount(item.firstSeenAt) || (item.goneAt !== undefined && !isCount(item.goneAt))) return { refused: 'an item is not {infoHash, name, bytes, firstSeenAt, goneAt?}' }
    items.push({ infoHash: item.infoHash, name: item.name, bytes: item.bytes, firstSeenAt: item.firstSeenAt, ...(item.goneAt !== undefined && { goneAt: item.goneAt }) })
  }
  const complete: Record<string, HeldFile[]> = {}
  for (const [infoHash, files] of Object.entries(value.complete)) {
    if (!INFO_HASH.test(infoHash) || !Array.isArray(files)) return { refused: `complete.${infoHash} is not a list of files` }
    const held: HeldFile[] = []
    for (const file of files as unknown[]) {
      if (!isObject(file) || typeof file.path !== 'string' || !isCount(file.size) || typeof file.mtimeMs !== 'number') return { refused: `a file of ${infoHash} is not {path, size, mtimeMs}` }
      held.push({ path: file.path, size: file.size, mtimeMs: file.mtimeMs })
    }
    complete[infoHash] = held
  }
  return { origin, items, complete }
}

export async function writeMirrorState (file: string, state: MirrorState): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify({ version: 1, ...state })}\n`)
}

function isObject (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function isCount (value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
}
