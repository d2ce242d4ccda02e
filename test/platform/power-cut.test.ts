import { createPrivateKey } from 'node:crypto'
import { once } from 'node:events'
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import test, { type ExecutionContext } from 'ava'
import { KEY_FILE } from '../../appliance/identity/box-key.js'
import { contentSignature } from '../../appliance/library/resume-store.js'
import { scanContent } from '../../appliance/metainfo/content.js'
import { createTorrent } from '../../appliance/metainfo/create-torrent.js'
import { parseTorrent } from '../../appliance/metainfo/metainfo.js'
import { HashPool } from '../../appliance/metainfo/piece-hasher.js'
import { pseudoRandomBytes, seededRandom } from '../helpers/content.js'
import { ServeProcess } from '../helpers/serve-process.js'
import { tempDir } from '../helpers/temp-dir.js'

// SIGKILL is what a power cut does to the process: nothing after it runs. (What it cannot show is the
// page cache being lost too; that part rests on writeFileAtomic's fsync of file and folder.)

const ITEMS = 40
const ROUNDS = 8
const CHANGED_PER_ROUND = 5

const itemName = (index: number): string => `item-${String(index).padStart(2, '0')}.bin`
const HEX40 = /^[0-9a-f]{40}$/
const TEMPORARY = /^\..+\.[0-9a-f]{12}\.tmp$/

interface StateReport {
  readonly indexed: number
  /** Index entries whose .torrent is not there (the item is hashed again). */
  readonly missingTorrents: number
  readonly temporaries: number
}

/** Everything a restart would read from the state folder is whole and true to the content. */
async function checkState (t: ExecutionContext, stateDir: string, library: string, expected: ReadonlyMap<string, string>, round: string): Promise<StateReport> {
  let temporaries = 0
  const torrentsDir = join(stateDir, 'torrents')
  for (const name of existsSync(stateDir) ? readdirSync(stateDir) : []) {
    if (TEMPORARY.test(name)) temporaries++
    else t.true(name === 'resume.json' || name === 'torrents' || name === KEY_FILE, `${round}: unexpected ${name} in the state folder`)
  }
  // The box's key, written once at the first start: whole, or not there.
  if (existsSync(join(stateDir, KEY_FILE))) t.notThrows(() => createPrivateKey(readFileSync(join(stateDir, KEY_FILE))), `${round}: ${KEY_FILE} is whole`)
  for (const name of existsSync(torrentsDir) ? readdirSync(torrentsDir) : []) {
    if (TEMPORARY.test(name)) {
      temporaries++
      continue
    }
    const infoHash = name.replace(/\.torrent$/, '')
    t.true(HEX40.test(infoHash) && name.endsWith('.torrent'), `${round}: unexpected ${name} in torrents/`)
    t.is(parseTorrent(readFileSync(join(torrentsDir, name))).infoHash as string, infoHash, `${round}: ${name} is whole and is the torrent it is named after`)
  }
  const indexPath = join(stateDir, 'resume.json')
  if (!existsSync(indexPath)) return { indexed: 0, missingTorrents: 0, temporaries }
  const index = JSON.parse(readFileSync(indexPath, 'utf8')) as { version: number, items: Record<string, { infoHash: string, signature: string }> }
  t.is(index.version, 1)
  let missingTorrents = 0
  for (const [path, entry] of Object.entries(index.items)) {
    const name = path.slice(library.length + 1)
    t.true(expected.has(name), `${round}: ${path} is an item of the library`)
    // The one thing that must never happen: the index vouching for today's content with another torrent.
    if (entry.signature === contentSignature(await scanContent(path))) t.is(entry.infoHash, expected.get(name) ?? 'not an item', `${round}: ${name} would resume under its true infohash`)
    if (!existsSync(join(torrentsDir, `${entry.infoHash}.torrent`))) missingTorrents++
  }
  return { indexed: Object.keys(index.items).length, missingTorrents, temporaries }
}

test('SIGKILL at random moments while serve publishes and rewrites its state: every restart reads a valid state, and every item comes back under its true infohash', async (t) => {
  const root = tempDir(t)
  const library = join(root, 'library')
  const stateDir = join(root, 'state')
  mkdirSync(library)
  const next = seededRandom(20240611) // the same kill moments and the same changes on every run
  const expected = new Map<string, string>()
  const pool = new HashPool(1)
  t.teardown(async () => await pool.close())
  const write = async (index: number, version: number): Promise<void> => {
    const name = itemName(index)
    writeFileSync(join(library, name), pseudoRandomBytes(`${name}/${version}`, 4096 + Math.floor(next() * 120_000)))
    expected.set(name, (await createTorrent(join(library, name), { pool })).metainfo.infoHash)
  }
  for (let index = 0; index < ITEMS; index++) await write(index, 0)

  const reports: string[] = []
  for (let round = 1; round <= ROUNDS; round++) {
    // Changed content makes the next run unpublish, rehash, remember and prune: state writes to cut into.
    for (let change = 0; change < CHANGED_PER_ROUND; change++) await write(Math.floor(next() * ITEMS), round)
    // The moment: after a random number of items came out (whatever the machine's speed), plus a few ms.
    const after = Math.floor(next() * ITEMS)
    const delayMs = Math.floor(next() * 40)
    const serve = await ServeProcess.start(t, { libraries: [library], stateDir })
    if (after > 0) await serve.waitForCount((line) => line.msg === 'published', after, 30_000)
    await sleep(delayMs)
    const published = serve.lines.filter((line) => line.msg === 'published').length
    const exit = once(serve.child, 'exit')
    serve.child.kill('SIGKILL')
    await exit
    const report = await checkState(t, stateDir, library, expected, `round ${round}`)
    reports.push(`round ${round}: killed ${delayMs} ms after item ${after}, ${published} published; index ${report.indexed}, missing .torrent ${report.missingTorrents}, temporaries ${report.temporaries}`)
  }

  const serve = await ServeProcess.start(t, { libraries: [library], stateDir })
  const lines = await serve.waitForCount((line) => line.msg === 'published', ITEMS, 60_000)
  t.is(await serve.stop(), 0)
  const resumed = lines.filter((line) => line.resumed === 'true').length
  t.log([...reports, `final: ${resumed} of ${ITEMS} resumed, ${ITEMS - resumed} hashed again`].join('\n'))
  for (const line of lines) t.is(line.infohash, expected.get(line.name!) ?? 'not an item', `${line.name} under its true infohash`)
  t.deepEqual(new Set(lines.map((line) => line.name)), new Set(expected.keys()))
  const final = await checkState(t, stateDir, library, expected, 'final')
  t.is(final.indexed, ITEMS)
  t.is(final.missingTorrents, 0)
  t.is(final.temporaries, 0, 'what a cut left half-written is cleared at start')
})
