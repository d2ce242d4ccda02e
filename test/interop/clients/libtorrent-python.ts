import { join } from 'node:path'
import { SYSTEM_PYTHON } from '../../helpers/libtorrent.js'
import { sourcePath } from '../../helpers/repo.js'
import { ClientProcess, type ClientProcessOptions } from './client-process.js'

// tsc does not copy the scripts to dist/: they run from the source tree.
const scriptFolder = sourcePath('test/interop/clients')

/** Runs one of this folder's libtorrent scripts; no bytecode is written into the source tree. */
export async function startLibtorrentScript (client: string, script: string, args: readonly string[], options: ClientProcessOptions = {}): Promise<ClientProcess> {
  return await ClientProcess.start(client, SYSTEM_PYTHON, [join(scriptFolder, script), ...args], {
    ...options,
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1' }
  })
}

/** One JSON line of a script's stdout; anything else (there should be nothing else) is ignored. */
export interface ScriptEvent {
  readonly event: string
  readonly [field: string]: unknown
}

export function parseScriptEvent (line: string): ScriptEvent | undefined {
  try {
    const value: unknown = JSON.parse(line)
    return typeof value === 'object' && value !== null && typeof (value as ScriptEvent).event === 'string' ? value as ScriptEvent : undefined
  } catch {
    return undefined
  }
}
