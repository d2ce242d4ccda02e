import { access, stat } from 'node:fs/promises'
import { basename, dirname, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { createTorrent } from '../metainfo/create-torrent.js'
import { magnetUri } from '../metainfo/magnet.js'
import { isTorrentFormat } from '../metainfo/torrent-format.js'
import { encodeTorrentParts } from '../metainfo/metainfo.js'
import { writeFileAtomic } from '../platform/atomic-write.js'
import { VERSION } from '../version.js'
import { ProgressBar } from './progress-bar.js'
import { UsageError } from './usage-error.js'

export const CREATE_USAGE = `Usage: evertorrent create <file-or-folder> [options]

Hashes a file or folder and writes a .torrent for it, then prints its infohash and magnet link.

Options:
  -o, --output FILE          where to write the .torrent (default: <name>.torrent here)
  -a, --announce URL[,URL]   tracker announce URLs; each -a is one tier (BEP 12), commas separate
                             the URLs of a tier
  -w, --web-seed URL         web seed URL (BEP 19); repeatable
  -l, --piece-length BYTES   piece length: a power of two from 16K to 16M (K and M suffixes allowed);
                             default: automatic, aiming at 1,000–2,000 pieces
  -F, --format v1|hybrid|v2  v1 (BEP 3, the default), hybrid (v1 and BEP 52 in one torrent, with
                             BEP 47 pad files; v1-only clients read it too) or v2 (BEP 52 only)
  -p, --private              mark the torrent private (BEP 27)
  -c, --comment TEXT         comment
  -s, --source TEXT          source tag (in the info dictionary, so it changes the infohash)
  -n, --name NAME            torrent name (default: the file or folder name)
  -t, --threads N            hashing threads (default: one per core)
  -f, --force                overwrite the output file if it exists
  -q, --quiet                no progress bar
  -h, --help                 this help`

export async function runCreate (args: string[], stdout: NodeJS.WriteStream, stderr: NodeJS.WriteStream): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      output: { type: 'string', short: 'o' },
      announce: { type: 'string', short: 'a', multiple: true },
      'web-seed': { type: 'string', short: 'w', multiple: true },
      'piece-length': { type: 'string', short: 'l' },
      format: { type: 'string', short: 'F' },
      private: { type: 'boolean', short: 'p' },
      comment: { type: 'string', short: 'c' },
      source: { type: 'string', short: 's' },
      name: { type: 'string', short: 'n' },
      threads: { type: 'string', short: 't' },
      force: { type: 'boolean', short: 'f' },
      quiet: { type: 'boolean', short: 'q' },
      help: { type: 'boolean', short: 'h' }
    }
  })
  if (values.help === true) {
    stdout.write(`${CREATE_USAGE}\n`)
    return
  }
  if (positionals.length !== 1) throw new UsageError('create takes exactly one file or folder')
  const input = positionals[0]!
  const format = values.format ?? 'v1'
  if (!isTorrentFormat(format)) throw new UsageError(`--format expects v1, hybrid or v2, not "${format}"`)
  const name = values.name ?? basename(resolve(input))
  const output = resolve(values.output ?? `${name}.torrent`)
  if (values.force !== true && await exists(output)) throw new UsageError(`${output} already exists (use --force to overwrite it)`)
  const folderProblem = await outputFolderProblem(dirname(output))
  if (folderProblem !== undefined) throw new UsageError(`cannot write ${output}: ${folderProblem}`)

  const bar = values.quiet !== true && stderr.isTTY ? new ProgressBar(stderr) : undefined
  const controller = new AbortController()
  const abort = (): void => controller.abort()
  process.once('SIGINT', abort)
  try {
    const { metainfo, content } = await createTorrent(input, {
      ...(values.name !== undefined && { name: values.name }),
      ...(values['piece-length'] !== undefined && { pieceLength: parseByteCount(values['piece-length'], '--piece-length') }),
      format,
      ...(values.threads !== undefined && { threads: parsePositiveInteger(values.threads, '--threads') }),
      announceList: (values.announce ?? []).map((tier) => tier.split(',').map((url) => url.trim()).filter((url) => url !== '')).filter((tier) => tier.length > 0),
      urlList: values['web-seed'] ?? [],
      private: values.private === true,
      ...(values.comment !== undefined && { comment: values.comment }),
      ...(values.source !== undefined && { source: values.source }),
      createdBy: `evertorrent/${VERSION}`,
      creationDate: Math.floor(Date.now() / 1000),
      signal: controller.signal,
      blockingScan: true,
      ...(bar !== undefined && { onProgress: (progress) => bar.update(progress) })
    })
    bar?.finish()
    for (const skipped of content.skipped) stderr.write(`evertorrent: skipped ${skipped.path}: ${skipped.reason}\n`)
    await writeFileAtomic(output, encodeTorrentParts(metainfo))
    const v2Line = metainfo.infoHashV2 === undefined ? '' : `v2 hash  ${metainfo.infoHashV2}\n`
    stdout.write(`torrent  ${output}\ninfohash ${metainfo.infoHash}\n${v2Line}magnet   ${magnetUri(metainfo)}\n`)
  } finally {
    bar?.finish()
    process.off('SIGINT', abort)
  }
}

async function exists (path: string): Promise<boolean> {
  return await access(path).then(() => true, () => false)
}

/** Checked before hashing, which can take hours (writeFileAtomic names the output too if the folder goes meanwhile). */
async function outputFolderProblem (folder: string): Promise<string | undefined> {
  const stats = await stat(folder).catch(() => undefined)
  if (stats === undefined) return `the folder ${folder} does not exist`
  return stats.isDirectory() ? undefined : `${folder} is not a folder`
}

export function parseByteCount (text: string, option: string): number {
  const match = /^(\d+)([KkMm]?)$/.exec(text)
  if (match === null) throw new UsageError(`${option} expects a number of bytes such as 262144, 256K or 1M, not "${text}"`)
  const multiplier = { '': 1, k: 1024, m: 1024 * 1024 }[match[2]!.toLowerCase() as '' | 'k' | 'm']
  return Number(match[1]) * multiplier
}

export function parsePositiveInteger (text: string, option: string): number {
  const value = Number(text)
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < 1) throw new UsageError(`${option} expects a positive whole number, not "${text}"`)
  return value
}
