import { dirname, join } from 'node:path'
import { readFileSync } from 'node:fs'
import test, { type ExecutionContext } from 'ava'
import { parseTorrent } from '../../appliance/metainfo/metainfo.js'
import { parseCreateOutput, runCli } from '../helpers/cli.js'
import { writeTree, type FileContent } from '../helpers/content.js'
import { inspectWithLibtorrent, SYSTEM_PYTHON } from '../helpers/libtorrent.js'
import { sourcePath } from '../helpers/repo.js'
import { runOk } from '../helpers/run.js'
import { tempDir } from '../helpers/temp-dir.js'

/*
 * Our hybrid and v2 torrents against libtorrent 2.0.8: it reads them with the infohashes we give
 * them, checks every piece of the data with them (SHA-1 and the merkle trees), and the torrent it
 * creates itself from the same content and piece length has an info dictionary equal to ours, byte
 * for byte.
 */

const KiB = 1024
const MiB = 1024 * KiB
const SCRIPT = sourcePath('test/interop/clients/lt_create.py')

interface Case {
  readonly name: string
  /** A single file when a number; else the folder's files. */
  readonly content: number | Readonly<Record<string, FileContent>>
  readonly pieceLength: number
}

const cases: Record<string, Case> = {
  'a folder of odd sizes, an empty file, nested folders and a folder named like a file beside it': {
    name: 'mixed',
    content: {
      'a.bin': 70_000,
      'empty': '',
      'one-piece.bin': 16 * KiB,
      'nested/tiny': 5,
      'nested/deep/big.bin': 200_001,
      'docs/x': 100,
      'docs.txt': 33,
      'zz-last-unaligned.bin': 40_000
    },
    pieceLength: 16 * KiB
  },
  'a folder whose last file is empty and whose pieces are larger than a read (2 MiB)': {
    name: 'large-pieces',
    content: { 'a/five.bin': 5 * MiB + 123, 'b.bin': 3 * MiB, 'c/small': 1000, 'd-empty': '' },
    pieceLength: 2 * MiB
  },
  'a single file of several pieces': { name: 'single.bin', content: 1_234_567, pieceLength: 64 * KiB },
  'a single file of exactly one piece': { name: 'one-piece.bin', content: 256 * KiB, pieceLength: 256 * KiB },
  'a single file smaller than a piece': { name: 'small.bin', content: 50_000, pieceLength: 1 * MiB }
}

interface LibtorrentView {
  readonly v1: string | null
  readonly v2: string | null
}

async function libtorrent (args: readonly string[]): Promise<unknown> {
  return JSON.parse((await runOk(SYSTEM_PYTHON, [SCRIPT, ...args], { timeoutMs: 150_000 })).stdout)
}

function makeContent (t: ExecutionContext, c: Case): string {
  const root = tempDir(t)
  if (typeof c.content === 'number') writeTree(root, { [c.name]: c.content })
  else writeTree(join(root, c.name), c.content)
  return join(root, c.name)
}

for (const [description, c] of Object.entries(cases)) {
  for (const format of ['hybrid', 'v2'] as const) {
    test(`libtorrent reads, verifies and creates the same ${format} torrent: ${description}`, async (t) => {
      const content = makeContent(t, c)
      const out = join(tempDir(t), `${format}.torrent`)
      const result = await runCli(['create', content, '-F', format, '-l', String(c.pieceLength), '-o', out, '-q'])
      t.is(result.exitCode, 0, result.stderr)
      const printed = parseCreateOutput(result.stdout)
      const ours = parseTorrent(readFileSync(out))
      t.is(ours.format, format)
      t.is(ours.infoHashV2 as string | undefined, printed.infoHashV2)

      const view = await libtorrent(['inspect', out]) as LibtorrentView
      t.is(view.v2, printed.infoHashV2 ?? 'none printed')
      t.is(view.v1, format === 'hybrid' ? printed.infoHash : null)
      if (format === 'v2') t.is(printed.infoHash, printed.infoHashV2!.slice(0, 40))
      t.true(printed.magnet.includes(`xt=urn:btmh:1220${printed.infoHashV2!}`))
      t.is(printed.magnet.includes('xt=urn:btih:'), format === 'hybrid')

      const checked = await inspectWithLibtorrent(out, dirname(content))
      t.deepEqual(checked.check, { checked: true, state: 'seeding', progress: 1, pieces_verified: ours.pieceCount, errors: [] })
      t.is(checked.num_pieces, ours.pieceCount)

      const created = await libtorrent(['create', content, String(c.pieceLength), format]) as { info: string }
      const theirs = Buffer.from(created.info, 'hex')
      const mine = ours.infoBytes
      t.true(mine.equals(theirs), `info dictionaries differ:\nours:       ${mine.toString('latin1').slice(0, 400)}\nlibtorrent: ${theirs.toString('latin1').slice(0, 400)}`)
    })
  }
}
