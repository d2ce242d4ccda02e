import test, { type ExecutionContext } from 'ava'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Catalog } from '../../appliance/catalog/catalog.js'
import { encodeTorrent } from '../../appliance/metainfo/metainfo.js'
import { sha256, type FileContent, writeTree } from '../helpers/content.js'
import { run } from '../helpers/run.js'
import { tempDir } from '../helpers/temp-dir.js'
import { publish, startWebSeed } from './fixture.js'


/**
 * aria2c downloads `target` (below a fresh folder holding `files`) from our web seed alone: the
 * torrent has no tracker, and DHT, local peer discovery and peer exchange are off.
 */
async function downloadWithAria2 (t: ExecutionContext, files: Readonly<Record<string, FileContent>>, target: string): Promise<void> {
  const source = tempDir(t)
  const written = writeTree(source, files)
  const catalog = new Catalog()
  const { seed, baseUrl } = await startWebSeed(t, catalog)
  const published = await publish(join(source, target), baseUrl)
  catalog.add(published)
  t.deepEqual(published.metainfo.announceList, [])

  const downloads = tempDir(t)
  const torrentPath = join(downloads, 'download.torrent')
  writeFileSync(torrentPath, encodeTorrent(published.metainfo))
  const result = await run('aria2c', [
    '--no-conf=true',
    `--dir=${join(downloads, 'out')}`,
    '--enable-dht=false',
    '--enable-dht6=false',
    '--bt-enable-lpd=false',
    '--enable-peer-exchange=false',
    '--seed-time=0',
    '--file-allocation=none',
    '--summary-interval=0',
    '--console-log-level=warn',
    torrentPath
  ], { timeoutMs: 60_000 })
  t.is(result.exitCode, 0, `${result.stdout}\n${result.stderr}`)

  for (const [relative, bytes] of written) {
    const downloaded = readFileSync(join(downloads, 'out', relative))
    t.is(sha256(downloaded), sha256(bytes), relative)
  }
  t.is(seed.bytesServed(published.metainfo.infoHash) >= published.metainfo.totalBytes, true)
}

test('aria2c downloads a single-file torrent from the web seed alone', async (t) => {
  await downloadWithAria2(t, { 'video.bin': 3_000_017 }, 'video.bin')
})

test('aria2c downloads a multi-file torrent from the web seed alone', async (t) => {
  await downloadWithAria2(t, {
    'show/a.txt': 'first file\n',
    'show/Season 1/épisode 1.bin': 1_000_003,
    'show/Season 1/épisode 2+3.bin': 700_001,
    'show/z/tiny': 'x'
  }, 'show')
})
