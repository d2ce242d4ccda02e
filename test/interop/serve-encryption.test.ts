import test, { type ExecutionContext } from 'ava'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { writeTree } from '../helpers/content.js'
import { ServeProcess, type LogLine } from '../helpers/serve-process.js'
import { tempDir } from '../helpers/temp-dir.js'
import { aria2Downloader } from './clients/aria2.js'
import type { Downloader } from './clients/downloader.js'
import { parseScriptEvent, startLibtorrentScript } from './clients/libtorrent-python.js'
import { qbittorrentDownloader } from './clients/qbittorrent.js'
import { sha256Tree } from './clients/sha256-tree.js'
import { transmissionDownloader } from './clients/transmission.js'
import { torrentWithoutWebSeeds } from './clients/without-web-seeds.js'

// Message stream encryption (MSE/PE) between real clients and a real `serve`, under each
// `seeder.encryption` policy. Web seeds are stripped, so the peer wire is the only way to the bytes.

const ITEM = 'secret.bin'
const ITEM_BYTES = 3 * 1024 * 1024 + 77

interface Served {
  readonly serve: ServeProcess
  readonly root: string
  readonly torrentFile: string
  readonly library: Record<string, string>
}

async function serveItem (t: ExecutionContext, encryption: 'prefer' | 'require' | 'off'): Promise<Served> {
  const root = tempDir(t, 'evertorrent-serve-encryption-')
  const library = join(root, 'library')
  writeTree(library, { [ITEM]: ITEM_BYTES })
  const serve = await ServeProcess.start(t, { libraries: [library], stateDir: join(root, 'state'), settings: { 'seeder.encryption': encryption } })
  const published = await serve.waitFor((line) => line.msg === 'published')
  const torrentFile = join(root, 'item.torrent')
  await writeFile(torrentFile, torrentWithoutWebSeeds(await readFile(published.torrent!)))
  return { serve, root, torrentFile, library: await sha256Tree(library) }
}

interface LtOutcome {
  readonly ok: boolean
  readonly bytes_received: number
  readonly peers: ReadonlyArray<{ readonly rc4: boolean, readonly incoming: boolean }>
}

/** lt_encryption.py: libtorrent with encryption `forced` (RC4 only) or `disabled` (plaintext only). */
async function libtorrent (served: Served, label: string, options: { encryption: 'forced' | 'disabled', dialSeeder: boolean, seconds: number }): Promise<LtOutcome & { files: Record<string, string>, log: string }> {
  const save = join(served.root, 'downloads', label)
  await mkdir(save, { recursive: true })
  let outcome: LtOutcome | undefined
  const child = await startLibtorrentScript('libtorrent', 'lt_encryption.py', [
    '--torrent', served.torrentFile, '--save', save, '--encryption', options.encryption, '--seconds', String(options.seconds),
    // Either it dials the seeder itself, or it never may, and is reachable only by being dialled (after announcing to serve's tracker).
    ...(options.dialSeeder ? ['--peer', `127.0.0.1:${served.serve.peerPort}`] : ['--never-dial'])
  ], {
    onStdoutLine: (line) => {
      const event = parseScriptEvent(line)
      if (event?.event === 'done') outcome = event as unknown as LtOutcome
    }
  })
  const exit = await child.exited
  if (outcome === undefined) throw child.failure(`lt_encryption.py gave no result (exit ${String(exit.code)})`)
  return { ...outcome, files: await sha256Tree(save), log: child.logTail() }
}

const refusedPlaintext = (line: LogLine): boolean => line.msg === 'peer connections refused' && line.reason === 'plaintext-refused'

test('prefer (the default): a plaintext-only and an RC4-only libtorrent both complete, each speaking its own way', async (t) => {
  const served = await serveItem(t, 'prefer')
  const [plain, forced] = await Promise.all([
    libtorrent(served, 'plain', { encryption: 'disabled', dialSeeder: true, seconds: 60 }),
    libtorrent(served, 'forced', { encryption: 'forced', dialSeeder: true, seconds: 60 })
  ])
  t.true(plain.ok, JSON.stringify(plain))
  t.deepEqual(plain.files, served.library)
  t.false(plain.peers.some((peer) => peer.rc4), 'the plaintext-only client was served in plaintext')
  t.true(forced.ok, JSON.stringify(forced))
  t.deepEqual(forced.files, served.library)
  t.true(forced.peers.length > 0 && forced.peers.every((peer) => peer.rc4), 'the forced client was served over RC4')
})

test('require: a plaintext-only libtorrent never gets a byte and serve logs the refusal; an RC4 one completes', async (t) => {
  const served = await serveItem(t, 'require')
  const plain = await libtorrent(served, 'plain', { encryption: 'disabled', dialSeeder: true, seconds: 8 })
  t.false(plain.ok)
  t.is(plain.bytes_received, 0, 'not one byte reached the plaintext client, either way round')
  t.deepEqual(plain.files, {}, 'no file was written')
  await served.serve.waitFor(refusedPlaintext, 5000)
  const forced = await libtorrent(served, 'forced', { encryption: 'forced', dialSeeder: true, seconds: 60 })
  t.true(forced.ok, JSON.stringify(forced))
  t.deepEqual(forced.files, served.library)
  t.true(forced.peers.every((peer) => peer.rc4))
})

test('the everseed dials encrypted: an RC4-only libtorrent it can only reach by dialling completes', async (t) => {
  const served = await serveItem(t, 'prefer')
  const dialled = await libtorrent(served, 'dialled', { encryption: 'forced', dialSeeder: false, seconds: 60 })
  if (!dialled.ok) t.log(`--- evertorrent serve ---\n${served.serve.describe()}`)
  t.true(dialled.ok, JSON.stringify(dialled))
  t.deepEqual(dialled.files, served.library)
  t.true(dialled.peers.length > 0, 'a peer connected')
  t.true(dialled.peers.every((peer) => peer.incoming && peer.rc4), `every peer came in, over RC4: the everseed dialled it encrypted ${JSON.stringify(dialled.peers)}`)
})

for (const client of [qbittorrentDownloader, transmissionDownloader, aria2Downloader] as readonly Downloader[]) {
  test(`${client.name} set to require encryption downloads from serve with encryption required`, async (t) => {
    const served = await serveItem(t, 'require')
    const saveDir = join(served.root, 'downloads', client.name)
    await mkdir(saveDir, { recursive: true })
    try {
      await client.download({ torrentFile: served.torrentFile, saveDir, timeoutMs: 90_000, requireEncryption: true })
    } catch (error) {
      t.log(`--- evertorrent serve ---\n${served.serve.describe()}`)
      throw error
    }
    t.deepEqual(await sha256Tree(saveDir), served.library, 'the downloaded bytes are the published ones')
  })
}
