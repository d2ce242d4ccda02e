import { sep } from 'node:path'

export interface Mount {
  readonly mountPoint: string
  readonly fsType: string
  /** The device, e.g. `/dev/sda1`. */
  readonly source: string
  readonly options: readonly string[]
}

/** Parses `/proc/self/mountinfo` (proc(5)); lines that do not parse are skipped. */
export function parseMountInfo (text: string): Mount[] {
  const mounts: Mount[] = []
  for (const line of text.split('\n')) {
    const fields = line.split(' ')
    const separator = fields.indexOf('-', 6)
    if (fields.length < 10 || separator < 0 || fields.length < separator + 3) continue
    mounts.push({
      mountPoint: unescapeOctal(fields[4]!),
      fsType: fields[separator + 1]!,
      source: unescapeOctal(fields[separator + 2]!),
      options: fields[5]!.split(',')
    })
  }
  return mounts
}

/** The mounts directly below `root` (one level, as the mount helper makes them), sorted by path. */
export function mountsUnder (mounts: readonly Mount[], root: string): Mount[] {
  const prefix = root.endsWith(sep) ? root : root + sep
  const below = new Map<string, Mount>()
  for (const mount of mounts) {
    const rest = mount.mountPoint.startsWith(prefix) ? mount.mountPoint.slice(prefix.length) : ''
    // The last mount on a path hides the ones before it.
    if (rest !== '' && !rest.includes(sep)) below.set(mount.mountPoint, mount)
  }
  return [...below.values()].sort((a, b) => a.mountPoint.localeCompare(b.mountPoint))
}

/** The kernel writes space, tab, newline and backslash in paths as `\040`, `\011`, `\012`, `\134`. */
function unescapeOctal (text: string): string {
  return text.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)))
}
