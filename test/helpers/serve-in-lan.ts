import type { ExecutionContext } from 'ava'
import { join } from 'node:path'
import type { NetnsTopology } from './netns-topology.js'
import { ServeProcess } from './serve-process.js'
import { tempDir } from './temp-dir.js'

/** serve in the lan namespace of `net`, listening on every address there, with its own library and state. */
export async function serveInLan (t: ExecutionContext, net: NetnsTopology, settings: Record<string, unknown>, extraArgs: readonly string[] = []): Promise<{ serve: ServeProcess, library: string }> {
  const home = tempDir(t)
  const library = join(home, 'library')
  const serve = await ServeProcess.start(t, {
    libraries: [library],
    stateDir: join(home, 'state'),
    wrap: net.wrap(net.lan),
    settings: { 'network.listen_host': '0.0.0.0', ...settings },
    extraArgs
  })
  return { serve, library }
}
