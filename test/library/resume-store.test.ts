import test from 'ava'
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createTorrent } from '../../appliance/metainfo/create-torrent.js'
import { scanContent } from '../../appliance/metainfo/content.js'
import { encodeTorrent } from '../../appliance/metainfo/metainfo.js'
import { contentSignature, ResumeStore } from '../../appliance/library/resume-store.js'
import { tempDir } from '../helpers/temp-dir.js'
import { writeTree } from '../helpers/content.js'

async function setUp (t: import('ava').ExecutionContext): Promise<{ item: string, state: string }> {
  const root = tempDir(t)
  writeTree(root, { 'item/a.bin': 100_000, 'item/b/c.txt': 'hello' })
  return { item: join(root, 'item'), state: join(root, 'state') }
}

test('a remembered item is found again by an identical signature, after a restart', async (t) => {
  const { item, state } = await setUp(t)
  const store = new ResumeStore(state, (error) => t.fail(String(error)))
  await store.open()
  const { metainfo, content } = await createTorrent(item)
  await store.remember(item, contentSignature(content), metainfo.infoHash, encodeTorrent(metainfo))
  await store.flush()

  const reopened = new ResumeStore(state, (error) => t.fail(String(error)))
  await reopened.open()
  const found = await reopened.lookup(item, contentSignature(await scanContent(item)))
  t.is(found?.infoHash, metainfo.infoHash)
})

test('a changed file changes the signature, so the old torrent is not reused', async (t) => {
  const { item, state } = await setUp(t)
  const store = new ResumeStore(state, (error) => t.fail(String(error)))
  await store.open()
  const { metainfo, content } = await createTorrent(item)
  await store.remember(item, contentSignature(content), metainfo.infoHash, encodeTorrent(metainfo))
  await writeFile(join(item, 'b', 'c.txt'), 'hello, world')
  t.is(await store.lookup(item, contentSignature(await scanContent(item))), undefined)
  await store.flush()
})

test('a damaged index or torrent file is never trusted', async (t) => {
  const { item, state } = await setUp(t)
  const store = new ResumeStore(state, (error) => t.fail(String(error)))
  await store.open()
  const { metainfo, content } = await createTorrent(item)
  await store.remember(item, contentSignature(content), metainfo.infoHash, encodeTorrent(metainfo))
  await store.flush()
  const torrentPath = store.torrentPath(metainfo.infoHash)
  const bytes = await readFile(torrentPath)
  await writeFile(torrentPath, bytes.subarray(0, bytes.length - 10))
  t.is(await store.lookup(item, contentSignature(content)), undefined)

  await writeFile(join(state, 'resume.json'), '{"version":1,"items":{"')
  const reopened = new ResumeStore(state, (error) => t.fail(String(error)))
  await reopened.open()
  t.is(await reopened.lookup(item, contentSignature(content)), undefined)
})

test('forgotten items lose their .torrent file and no temporary file is left', async (t) => {
  const { item, state } = await setUp(t)
  const store = new ResumeStore(state, (error) => t.fail(String(error)))
  await store.open()
  const { metainfo, content } = await createTorrent(item)
  await store.remember(item, contentSignature(content), metainfo.infoHash, encodeTorrent(metainfo))
  await store.flush()
  t.deepEqual(await readdir(join(state, 'torrents')), [`${metainfo.infoHash}.torrent`])
  store.forget(item)
  await store.flush()
  t.deepEqual(await readdir(join(state, 'torrents')), [])
  t.deepEqual((await readdir(state)).sort(), ['resume.json', 'torrents'])
})
