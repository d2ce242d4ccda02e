import { chmodSync, chownSync, mkdirSync, readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import test, { type ExecutionContext } from 'ava'
import { cliErrorMessage, runCli } from '../helpers/cli.js'
import { sparseFile, writeTree } from '../helpers/content.js'
import { waitForOpenFile } from '../helpers/proc.js'
import type { RunResult } from '../helpers/run.js'
import { tempDir } from '../helpers/temp-dir.js'

const NOBODY = 65534

interface Setup {
  /** Folder the CLI runs in and writes to; must stay as it was (no .torrent, no temp file). */
  readonly out: string
  readonly output: string
  /** A folder of ordinary content, for cases that break only an option. */
  readonly content: string
}

function setup (t: ExecutionContext): Setup {
  const base = tempDir(t)
  const out = join(base, 'out')
  mkdirSync(out)
  const content = join(base, 'content')
  writeTree(content, { 'a.txt': 5000, 'sub/b.bin': 70_000 })
  return { out, output: join(out, 'result.torrent'), content }
}

async function create (s: Setup, args: readonly string[], options: Parameters<typeof runCli>[1] = {}): Promise<RunResult> {
  return await runCli(['create', ...args, '-o', s.output], { cwd: s.out, ...options })
}

function assertFailed (t: ExecutionContext, s: Setup, result: RunResult, exitCode: 1 | 2, expected: ReadonlyArray<string | RegExp>, left: readonly string[] = []): void {
  const message = cliErrorMessage(result, exitCode)
  for (const part of expected) {
    if (typeof part === 'string') t.true(message.includes(part), `message lacks ${JSON.stringify(part)}: ${message}`)
    else t.regex(message, part)
  }
  t.deepEqual(readdirSync(s.out), [...left], 'the output folder must hold no .torrent and no temporary file')
}

test('a missing path', async (t) => {
  const s = setup(t)
  const missing = join(s.content, 'nope')
  const result = await create(s, [missing])
  assertFailed(t, s, result, 1, [missing, /does not exist/])
})

test('an empty folder', async (t) => {
  const s = setup(t)
  const empty = join(s.out, '..', 'empty')
  mkdirSync(join(empty, 'nested/deeper'), { recursive: true })
  assertFailed(t, s, await create(s, [empty]), 1, [empty, /nothing to publish/])
})

test('a folder of only junk and empty files', async (t) => {
  const s = setup(t)
  const junk = join(s.out, '..', 'junk')
  writeTree(junk, { '.DS_Store': 4000, 'Thumbs.db': 300, 'sub/._photo.jpg': 100, 'empty.txt': '', 'sub/empty': '' })
  assertFailed(t, s, await create(s, [junk]), 1, [junk, /nothing to publish/])
})

test('an empty file', async (t) => {
  const s = setup(t)
  const empty = join(s.content, 'empty.txt')
  writeFileSync(empty, '')
  assertFailed(t, s, await create(s, [empty]), 1, [empty, /empty/])
})

test('a file name that is not UTF-8', async (t) => {
  const s = setup(t)
  writeFileSync(Buffer.concat([Buffer.from(join(s.content, 'sub') + '/'), Buffer.from([0x66, 0xff, 0x2e, 0x74])]), 'data')
  assertFailed(t, s, await create(s, [s.content]), 1, [join(s.content, 'sub'), /UTF-8/])
})

/** Content and output that user `nobody` can reach: the test folder is root's and private by default. */
function shareWithNobody (s: Setup): void {
  chmodSync(join(s.out, '..'), 0o755)
  chownSync(s.out, NOBODY, NOBODY)
}

test('an unreadable file inside the folder (run as nobody)', async (t) => {
  const s = setup(t)
  shareWithNobody(s)
  const secret = join(s.content, 'sub', 'secret.bin')
  writeFileSync(secret, 'not for nobody')
  chmodSync(secret, 0o000)
  const asNobody = { uid: NOBODY, gid: NOBODY }
  assertFailed(t, s, await create(s, [s.content], asNobody), 1, [secret, /permission denied/])
  // The same run succeeds once the file is readable: the failure was that file, not the setup.
  chmodSync(secret, 0o644)
  const result = await create(s, [s.content], asNobody)
  t.is(result.exitCode, 0, result.stderr)
  t.deepEqual(readdirSync(s.out), ['result.torrent'])
})

test('an unreadable folder inside the folder (run as nobody)', async (t) => {
  const s = setup(t)
  shareWithNobody(s)
  const locked = join(s.content, 'locked')
  writeTree(locked, { 'inside.txt': 10 })
  chmodSync(locked, 0o000)
  t.teardown(() => chmodSync(locked, 0o755))
  assertFailed(t, s, await create(s, [s.content], { uid: NOBODY, gid: NOBODY }), 1, [locked, /permission denied/])
})

/*
 * A file that shrinks while the CLI hashes it. Deterministic: the test waits until the CLI's reader
 * has the file open (/proc/<pid>/fd), then truncates it; the next read comes up short. The file is
 * 8 GiB (sparse), so the reader is nowhere near its end when that happens.
 */
test('a file that changes while it is hashed', async (t) => {
  const s = setup(t)
  const big = join(s.content, 'sub', 'changing.img')
  sparseFile(big, 8 * 1024 ** 3)
  let watched: Promise<void> | undefined
  const running = create(s, ['-t', '1', s.content], {
    onSpawn: (pid) => {
      watched = waitForOpenFile(pid, big, running).then(() => truncateSync(big, 0))
    }
  })
  const result = await running
  await t.notThrowsAsync(watched!, 'the CLI ended before the test could change the file')
  assertFailed(t, s, result, 1, [big, /changed while it was being hashed/])
})

const badOptions: ReadonlyArray<[string, string[], 1 | 2, ReadonlyArray<string | RegExp>]> = [
  ['a piece length that is not a power of two', ['-l', '3000'], 1, ['3000', /power of two/]],
  ['a thread count of 0', ['-t', '0'], 2, ['--threads', '"0"']],
  ['an announce URL that is not a URL', ['-a', 'http://ok.example/announce,not a url'], 1, ['"not a url"', /not a valid URL/]],
  ['a name with a slash', ['-n', 'a/b'], 1, ['"a/b"']],
  ['an unknown option', ['--colour'], 2, ['--colour']],
  ['an option whose value is missing (a multi-line parseArgs message)', ['-l'], 2, ['-l']]
]

for (const [description, args, exitCode, expected] of badOptions) {
  test(`bad option: ${description}`, async (t) => {
    const s = setup(t)
    const result = await runCli(['create', s.content, ...args, '-o', s.output], { cwd: s.out })
    assertFailed(t, s, result, exitCode, expected)
  })
}

test('no file or folder, or two of them, is a usage error', async (t) => {
  const s = setup(t)
  assertFailed(t, s, await runCli(['create', '-o', s.output], { cwd: s.out }), 2, [/exactly one file or folder/])
  assertFailed(t, s, await runCli(['create', s.content, s.content, '-o', s.output], { cwd: s.out }), 2, [/exactly one file or folder/])
})

test('an unknown --format is a usage error naming the formats', async (t) => {
  const s = setup(t)
  assertFailed(t, s, await runCli(['create', s.content, '-o', s.output, '--format', 'v3'], { cwd: s.out }), 2, [/--format expects v1, hybrid or v2, not "v3"/])
})

test('an output file that exists, without --force, is left alone', async (t) => {
  const s = setup(t)
  writeFileSync(s.output, 'precious')
  assertFailed(t, s, await create(s, [s.content]), 2, [s.output, '--force'], ['result.torrent'])
  t.is(readFileSync(s.output, 'utf8'), 'precious')
})

test('an output folder that does not exist is named, before any hashing, with no temporary file', async (t) => {
  const s = setup(t)
  const result = await runCli(['create', s.content, '-o', 'missing/dir/x.torrent'], { cwd: s.out })
  const message = cliErrorMessage(result, 2)
  t.is(message, `cannot write ${join(s.out, 'missing/dir/x.torrent')}: the folder ${join(s.out, 'missing/dir')} does not exist`)
  t.false(message.includes('.tmp'))
  t.deepEqual(readdirSync(s.out), [])
})

test('an output folder that is a file', async (t) => {
  const s = setup(t)
  writeFileSync(join(s.out, 'notes'), 'a file')
  const result = await runCli(['create', s.content, '-o', 'notes/x.torrent'], { cwd: s.out })
  t.is(cliErrorMessage(result, 2), `cannot write ${join(s.out, 'notes/x.torrent')}: ${join(s.out, 'notes')} is not a folder`)
  t.deepEqual(readdirSync(s.out), ['notes'])
})
