import test from 'ava'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseTorrent } from '../../appliance/metainfo/metainfo.js'
import { sha256, writeTree } from '../helpers/content.js'
import { runOk } from '../helpers/run.js'
import { runCli } from '../helpers/cli.js'
import { ServeProcess } from '../helpers/serve-process.js'
import { tempDir } from '../helpers/temp-dir.js'

const published = (line: { msg: string }): boolean => line.msg === 'published'

/** Bytes the process has read through read(2) and friends so far (`rchar` of /proc/PID/io). */
async function bytesRead (pid: number): Promise<number> {
  const io = await readFile(`/proc/${pid}/io`, 'utf8')
  return Number(/^rchar: (\d+)$/m.exec(io)![1])
}

test('a restart with 200 published items resumes them without reading their files', async (t) => {
  const root = tempDir(t)
  const library = join(root, 'library')
  const itemBytes = 512 * 1024
  const files: Record<string, number> = {}
  for (let index = 0; index < 200; index++) files[`item-${String(index).padStart(3, '0')}.bin`] = itemBytes
  writeTree(library, files)
  const contentBytes = 200 * itemBytes
  const stateDir = join(root, 'state')

  const first = await ServeProcess.start(t, { libraries: [library], stateDir })
  const firstLines = await first.waitForCount(published, 200, 240_000)
  const readByFirst = await bytesRead(first.child.pid!)
  t.is(await first.stop(), 0)

  const second = await ServeProcess.start(t, { libraries: [library], stateDir })
  const secondLines = await second.waitForCount(published, 200, 60_000)
  const readBySecond = await bytesRead(second.child.pid!)
  t.log(`bytes read: first run ${readByFirst}, restart ${readBySecond}, content ${contentBytes}`)

  t.true(readByFirst >= contentBytes, 'the first run hashes (reads) every byte')
  t.true(readBySecond < contentBytes / 4, 'the restart reads far less than the content')
  t.deepEqual(secondLines.filter((line) => line.resumed !== 'true'), [])
  t.deepEqual(secondLines.map((line) => line.infohash).sort(), firstLines.map((line) => line.infohash).sort())
})

test('a changed file is republished under a new infohash, and the old torrent is no longer served or tracked', async (t) => {
  const root = tempDir(t)
  const library = join(root, 'library')
  writeTree(library, { 'album/track1.bin': 200_000, 'album/track2.bin': 300_000 })
  const serve = await ServeProcess.start(t, { libraries: [library], stateDir: join(root, 'state'), settings: { 'library.rescan_interval': 1 } })
  const before = await serve.waitFor(published)

  await writeFile(join(library, 'album', 'track2.bin'), 'a new recording')
  const after = await serve.waitFor((line) => published(line) && line.infohash !== before.infohash, 30_000)
  t.is(after.name, 'album')

  const base = `http://127.0.0.1:${serve.httpPort}`
  t.is((await fetch(`${base}/torrents/${before.infohash}.torrent`)).status, 404)
  const fresh = parseTorrent(new Uint8Array(await (await fetch(`${base}/torrents/${after.infohash}.torrent`)).arrayBuffer()))
  t.is(fresh.infoHash as string, after.infohash)

  const announce = await fetch(`http://127.0.0.1:${serve.trackerPort}/announce?info_hash=${binaryParam(before.infohash!)}&peer_id=${'-XX0001-' + 'a'.repeat(12)}&port=6999&uploaded=0&downloaded=0&left=1&compact=1`)
  t.regex(Buffer.from(await announce.arrayBuffer()).toString('latin1'), /failure reason/)
})

test('a client that reaches no BitTorrent peer completes from the web seed alone', async (t) => {
  const root = tempDir(t)
  const library = join(root, 'library')
  const written = writeTree(library, { 'docs/a.bin': 700_000, 'docs/nested/b.txt': 'web seeds are plain HTTP' })
  const serve = await ServeProcess.start(t, { libraries: [library], stateDir: join(root, 'state') })
  const line = await serve.waitFor(published)
  const downloads = join(root, 'downloads')
  // No tracker (every tracker excluded), no DHT, no LSD, no PEX: the url-list is the only source.
  await runOk('aria2c', ['--dir', downloads, '--bt-exclude-tracker=*', '--enable-dht=false', '--enable-dht6=false', '--bt-enable-lpd=false',
    '--enable-peer-exchange=false', '--seed-time=0', '--console-log-level=warn', '--summary-interval=0', '--stop=60', line.torrent!], { timeoutMs: 90_000 })
  for (const [relative, bytes] of written) {
    const got = await readFile(join(downloads, ...relative.split('/')))
    t.is(sha256(got), sha256(bytes), relative)
  }
})

test('SIGTERM stops serve cleanly with exit code 0', async (t) => {
  const root = tempDir(t)
  writeTree(join(root, 'library'), { 'one.txt': 'one' })
  const serve = await ServeProcess.start(t, { libraries: [join(root, 'library')], stateDir: join(root, 'state') })
  await serve.waitFor(published)
  t.is(await serve.stop(), 0)
  t.truthy(serve.lines.find((line) => line.msg === 'stopped'))
})


/** An infohash as the percent-encoded binary string of an HTTP announce. */
function binaryParam (hex: string): string {
  return [...Buffer.from(hex, 'hex')].map((byte) => `%${byte.toString(16).padStart(2, '0')}`).join('')
}

test('a library that cannot be a folder stops serve at start with a precise error, exit 1', async (t) => {
  const root = tempDir(t)
  await writeFile(join(root, 'a-file'), 'not a folder')
  const result = await runCli(['serve', '--library', join(root, 'a-file'), '--state-dir', join(root, 'state'), '--http-port', '0', '--tracker-port', '0', '--peer-port', '0'])
  t.is(result.exitCode, 1)
  t.regex(result.stderr, /library\.folders: ".*a-file" is not a folder/)
  t.is(result.stderr.trim().split('\n').length, 1)
})
