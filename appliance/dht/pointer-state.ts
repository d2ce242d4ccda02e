import { readFile } from 'node:fs/promises'
import { writeFileAtomic } from '../platform/atomic-write.js'
import type { InfoHash } from '../metainfo/metainfo.js'

/** The box's last BEP 46 item: the catalog torrent it points at, under which sequence number, with its signature. */
export interface PointerState {
  readonly seq: number
  readonly infoHash: InfoHash
  readonly sig: Buffer
}

/** A state file above this is refused unread (one is about 250 bytes). */
const MAX_POINTER_STATE_BYTES = 4096
const HEX_INFOHASH = /^[0-9a-f]{40}$/
const HEX_SIGNATURE = /^[0-9a-f]{128}$/

export function serializePointerState (state: PointerState): string {
  return `${JSON.stringify({ version: 1, seq: state.seq, infoHash: state.infoHash, sig: state.sig.toString('hex') })}\n`
}

export function parsePointerState (text: string): PointerState | { readonly refused: string } {
  let file: Record<string, unknown>
  try {
    file = JSON.parse(text) as Record<string, unknown>
  } catch {
    return { refused: 'not JSON' }
  }
  if (typeof file !== 'object' || file === null || file.version !== 1) return { refused: 'not {"version": 1, …}' }
  const { seq, infoHash, sig } = file
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) return { refused: 'seq is not a whole number' }
  if (typeof infoHash !== 'string' || !HEX_INFOHASH.test(infoHash)) return { refused: 'infoHash is not 40 hex digits' }
  if (typeof sig !== 'string' || !HEX_SIGNATURE.test(sig)) return { refused: 'sig is not 128 hex digits' }
  return { seq, infoHash: infoHash as InfoHash, sig: Buffer.from(sig, 'hex') }
}

/** The state in `file`: undefined when there is none, the reason when it is refused. */
export async function readPointerState (file: string): Promise<PointerState | { readonly refused: string } | undefined> {
  let bytes: Buffer
  try {
    bytes = await readFile(file)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    return { refused: `cannot read it (${(error as NodeJS.ErrnoException).code ?? String(error)})` }
  }
  if (bytes.length > MAX_POINTER_STATE_BYTES) return { refused: `larger than ${MAX_POINTER_STATE_BYTES} bytes` }
  return parsePointerState(bytes.toString('utf8'))
}

export async function writePointerState (file: string, state: PointerState): Promise<void> {
  await writeFileAtomic(file, serializePointerState(state))
}
