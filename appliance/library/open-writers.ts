import { readdir, readFile, readlink } from 'node:fs/promises'
import { sep } from 'node:path'
import { isTransient } from './transient.js'

/** A process holding a file open for writing. */
export interface Writer {
  readonly pid: number
  /** The process's name (`/proc/<pid>/comm`), for people. */
  readonly command: string
  readonly path: string
}

export interface WriterSearch {
  /** Default `/proc`. */
  readonly procRoot?: string
  /** Left out of the search (this process reads content, it never writes it). Default: this process. */
  readonly ownPid?: number
}

/** `O_ACCMODE` bits of the `flags:` line of `/proc/<pid>/fdinfo/<fd>` (octal): `O_WRONLY` 1, `O_RDWR` 2. */
const ACCESS_MODE = 0o3

/**
 * Every file below `roots` (real paths of folders) that a process has open for writing, found
 * through the links in `/proc/<pid>/fd` and the flags in `/proc/<pid>/fdinfo`. Linux only; elsewhere,
 * or without /proc, nobody is found.
 *
 * Only processes this one may inspect are seen: its own user's, or every process for root. Without
 * CAP_SYS_PTRACE, another user's processes (a Samba or SFTP session writing as that user) are
 * invisible (`EACCES`), and the settle time alone tells when their copy is done. Under the shipped
 * unit (`User=evertorrent`, `ProtectProc=invisible`) that is every process but the service's own
 * user's; run as root or as the user who copies, it sees the copy.
 *
 * It reads every visible process's descriptor table: 25 to 50 ms for 80 processes on a loaded 2-core
 * machine. So the publisher asks only about items about to be hashed, and keeps the answer a moment.
 */
export async function findWriters (roots: readonly string[], search: WriterSearch = {}): Promise<Writer[]> {
  const procRoot = search.procRoot ?? '/proc'
  const ownPid = search.ownPid ?? process.pid
  const prefixes = roots.map((root) => root.endsWith(sep) ? root : root + sep)
  const wanted = (path: string): boolean => prefixes.some((prefix) => path.startsWith(prefix))
  const writers: Writer[] = []
  for (const name of await listOrNothing(procRoot)) {
    const pid = Number(name)
    if (!/^[0-9]+$/.test(name) || pid === ownPid) continue
    const paths = await writtenBy(`${procRoot}/${name}`, wanted)
    if (paths.length === 0) continue
    const command = (await readFile(`${procRoot}/${name}/comm`, 'utf8').catch(() => '?')).trim()
    for (const path of paths) writers.push({ pid, command, path })
  }
  return writers
}

/** The paths matching `wanted` that the process at `processDir` has open for writing. */
async function writtenBy (processDir: string, wanted: (path: string) => boolean): Promise<string[]> {
  const paths: string[] = []
  for (const fd of await listOrNothing(`${processDir}/fd`)) {
    const target = await readlink(`${processDir}/fd/${fd}`).catch(ignoreGone)
    if (target === undefined || !wanted(target)) continue
    const info = await readFile(`${processDir}/fdinfo/${fd}`, 'utf8').catch(ignoreGone)
    const flags = info === undefined ? undefined : /^flags:\s*([0-7]+)$/m.exec(info)?.[1]
    if (flags !== undefined && (parseInt(flags, 8) & ACCESS_MODE) !== 0) paths.push(target)
  }
  return paths
}

async function listOrNothing (folder: string): Promise<string[]> {
  return await readdir(folder).catch((error: unknown) => ignoreGone(error) ?? [])
}

/**
 * A process that ended, a descriptor closed meanwhile, a process of another user (EACCES), or no
 * /proc at all: nothing to see there. Running out of descriptors is not an answer, and is thrown.
 */
function ignoreGone (error: unknown): undefined {
  if (isTransient(error)) throw error
  return undefined
}
