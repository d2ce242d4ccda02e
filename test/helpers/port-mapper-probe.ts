// Runs the port mapper engine alone, as the service would, inside a namespace of the test topology:
// prints its first settled snapshot as one JSON line, waits for a line on stdin, closes it (which
// removes the mappings) and prints `closed`; then it exits by itself, or a socket or timer was left open. Usage: node port-mapper-probe.js PORT...
import { once } from 'node:events'
import { gatewayFinder } from '../../appliance/network/find-gateway.js'
import { PortMapper, type PortMapperSnapshot } from '../../appliance/network/port-mapper.js'

const ports = process.argv.slice(2).map(Number)
const mapper = new PortMapper({
  ports: ports.flatMap((port) => [{ purpose: 'peer', protocol: 'tcp', port }, { purpose: 'tracker', protocol: 'udp', port }] as const),
  leaseSeconds: 600,
  findGateway: gatewayFinder()
})
const settled = new Promise<PortMapperSnapshot>((resolve) => mapper.on('change', (snapshot) => { if (snapshot.state !== 'searching') resolve(snapshot) }))
mapper.start()
process.stdout.write(`${JSON.stringify(await settled)}\n`)
process.stdin.resume()
await once(process.stdin, 'data')
process.stdin.pause()
await mapper.close()
process.stdout.write('closed\n')
