import test from 'ava'
import { MAX_SAVED_NODES, parseDhtState, serializeDhtState } from '../../appliance/dht/dht-state.js'

const nodeId = Buffer.alloc(20, 0xab)
const node = (index: number): { id: Buffer, host: string, port: number } => ({ id: Buffer.alloc(20, index), host: `10.0.${index >> 8}.${index & 255}`, port: 1000 + index })

test('what is saved reads back: the node id and the nodes', (t) => {
  const state = { nodeId, nodes: [node(1), node(2)] }
  t.deepEqual(parseDhtState(serializeDhtState(state)), state)
})

test('at most MAX_SAVED_NODES nodes are written or read', (t) => {
  const nodes = Array.from({ length: MAX_SAVED_NODES + 50 }, (_, index) => node(index))
  const read = parseDhtState(serializeDhtState({ nodeId, nodes }))
  t.false('refused' in read)
  t.is((read as { nodes: readonly unknown[] }).nodes.length, MAX_SAVED_NODES)
  const long = JSON.stringify({ version: 1, nodeId: nodeId.toString('hex'), nodes: nodes.map((n) => ({ id: n.id.toString('hex'), host: n.host, port: n.port })) })
  t.is((parseDhtState(long) as { nodes: readonly unknown[] }).nodes.length, MAX_SAVED_NODES)
})

test('anything else is refused whole, with the reason', (t) => {
  const good = { version: 1, nodeId: nodeId.toString('hex'), nodes: [] as unknown[] }
  const cases: Array<[string, string]> = [
    ['', 'not JSON'],
    ['null', 'not {"version": 1, …}'],
    [JSON.stringify({ ...good, version: 2 }), 'not {"version": 1, …}'],
    [JSON.stringify({ ...good, nodeId: 'AB'.repeat(20) }), 'nodeId is not 40 hex digits'],
    [JSON.stringify({ ...good, nodes: {} }), 'nodes is not a list'],
    [JSON.stringify({ ...good, nodes: [null] }), 'node 1 is not {"id": <40 hex>, "host": <IPv4>, "port": 1-65535}'],
    [JSON.stringify({ ...good, nodes: [{ id: 'a'.repeat(40), host: '::1', port: 1 }] }), 'node 1 is not {"id": <40 hex>, "host": <IPv4>, "port": 1-65535}'],
    [JSON.stringify({ ...good, nodes: [{ id: 'a'.repeat(40), host: '1.2.3.4', port: 0 }] }), 'node 1 is not {"id": <40 hex>, "host": <IPv4>, "port": 1-65535}']
  ]
  for (const [text, refused] of cases) t.deepEqual(parseDhtState(text), { refused }, text)
})
