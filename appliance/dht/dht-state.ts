import { open } from 'node:fs/promises'
import { isIPv4 } from 'node:net'
import { writeFileAtomic } from '../platform/atomic-write.js'
import type { Contact } from './dht-node.js'

/** What a restart needs to rejoin the DHT at once: our node id and the nodes of the routing table. */
export interface DhtState {
  readonly nodeId: Buffer
  readonly nodes: readonly Contact[]
}

/**
 * Nodes read back at most. A routing table of 160 buckets of 20 holds 3,200 in theory and a few
 * hundred in practice; the rest of a longer list is left unread.
 */
export const MAX_SAVED_NODES = 1000
/** Bytes of dht.json read at most: 1,000 nodes take about 80 KB. A larger file is refused unread. */
export const MAX_STATE_BYTES = 256 * 1024

interface StateFile {
  readonly version: 1
  readonly nodeId: string
  readonly nodes: ReadonlyArray<{ readonly id: string, readonly host: string, readonly port: number }>
}

const HEX_ID = /^[0-9a-f]{40}$/

export function serializeDhtState (state: DhtState): string {
  const file: StateFile = {
    version: 1,
    nodeId: state.nodeId.toString('hex'),
    nodes: state.nodes.slice(0, MAX_SAVED_NODES).map((node) => ({ id: node.id.toString('hex'), host: node.host, port: node.port }))
  }
  return `${JSON.stringify(file)}\n`
}

/** The state in `text`, or why it is refused (a damaged or hand-made file is never half-believed). */
export function parseDhtState (text: string): DhtState | { readonly refused: string } {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    return { refused: 'not JSON' }
  }
  const file = parsed as Partial<StateFile> | null
  if (typeof file !== 'object' || file === null || file.version !== 1) return { refused: 'not {"version": 1, …}' }
  if (typeof file.nodeId !== 'string' || !HEX_ID.test(file.nodeId)) return { refused: 'nodeId is not 40 hex digits' }
  if (!Array.isArray(file.nodes)) return { refused: 'nodes is not a list' }
  const nodes: Contact[] = []
  for (const node of file.nodes.slice(0, MAX_SAVED_NODES) as unknown[]) {
    const { id, host, port } = (node ?? {}) as Record<string, unknown>
    if (typeof id !== 'string' || !HEX_ID.test(id) || typeof host !== 'string' || !isIPv4(host) ||
      typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
      return { refused: `node ${nodes.length + 1} is not {"id": <40 hex>, "host": <IPv4>, "port": 1-65535}` }
    }
    nodes.push({ id: Buffer.from(id, 'hex'), host, port })
  }
  return { nodeId: Buffer.from(file.nodeId, 'hex'), nodes }
}

/** Reads dht.json: undefined when there is none; the reason when it is refused. */
export async function readDhtState (file: string): Promise<DhtState | { readonly refused: string } | undefined> {
  let handle
  try {
    handle = await open(file, 'r')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    return { refused: `cannot read it (${(error as NodeJS.ErrnoException).code ?? String(error)})` }
  }
  try {
    const buffer = Buffer.alloc(MAX_STATE_BYTES + 1)
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0)
    if (bytesRead > MAX_STATE_BYTES) return { refused: `larger than ${MAX_STATE_BYTES} bytes` }
    return parseDhtState(buffer.subarray(0, bytesRead).toString('utf8'))
  } catch (error) {
    return { refused: `cannot read it (${(error as NodeJS.ErrnoException).code ?? String(error)})` }
  } finally {
    await handle.close()
  }
}

export async function writeDhtState (file: string, state: DhtState): Promise<void> {
  await writeFileAtomic(file, serializeDhtState(state))
}
