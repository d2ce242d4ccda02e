import test from 'ava'
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createTorrent } from '../../appliance/metainfo/create-torrent.js'
import { scanContent } from '../../appliance/metainfo/content.js'
import { encodeTorrent } from '../../appliance/metainfo/metainfo.js'
import { contentSignature, ResumeStore } from '../../appliance/library/resume-store.js'
import { tempDir } from '../helpers/temp-dir.js'
import { writeTree } from '../helpers/content.js'

type Context = import('ava').ExecutionContext

async function openStore (t: Context, state: string): Promise<ResumeStore> {
  const store = new ResumeStore(state, (error) => t.fail(String(error)))
  await store.open()
  return store
}

/** An item hashed once and remembered in a fresh state folder. */
async function setUp (t: Context): Promise<{ item: string, state: string, store: ResumeStore } & Awaited<ReturnType<typeof createTorrent>>> {
  const root = tempDir(t)
  writeTree(root, { 'item/a.bin': 100_000, 'item/b/c.txt': 'hello' })
  const item = join(root, 'item')
  const state = join(root, 'state')
  const store = await openStore(t, state)
  const created = await createTorrent(item)
  await store.remember(item, contentSignature(created.content), created.metainfo.infoHash, encodeTorrent(created.metainfo))
  return { item, state, store, ...created }
}

test('a remembered item is found again by an identical signature, after a restart', async (t) => {
  const { item, state, store, metainfo } = await setUp(t)
  await store.flush()

  const reopened = await openStore(t, state)
  const found = await reopened.lookup(item, contentSignature(await scanContent(item)))
  t.is(found?.infoHash, metainfo.infoHash)
})

test('a changed file changes the signature, so the old torrent is not reused', async (t) => {
  const { item, store } = await setUp(t)
  await writeFile(join(item, 'b', 'c.txt'), 'hello, world')
  t.is(await store.lookup(item, contentSignature(await scanContent(item))), undefined)
  await store.flush()
})

test('a damaged index or torrent file is never trusted', async (t) => {
  const { item, state, store, metainfo, content } = await setUp(t)
  await store.flush()
  const torrentPath = store.torrentPath(metainfo.infoHash)
  const bytes = await readFile(torrentPath)
  await writeFile(torrentPath, bytes.subarray(0, bytes.length - 10))
  t.is(await store.lookup(item, contentSignature(content)), undefined)

  await writeFile(join(state, 'resume.json'), '{"version":1,"items":{"')
  const reopened = await openStore(t, state)
  t.is(await reopened.lookup(item, contentSignature(content)), undefined)
})

test('forgotten items lose their .torrent file and no temporary file is left', async (t) => {
  const { item, state, store, metainfo } = await setUp(t)
  await store.flush()
  t.deepEqual(await readdir(join(state, 'torrents')), [`${metainfo.infoHash}.torrent`])
  store.forget(item)
  await store.flush()
  t.deepEqual(await readdir(join(state, 'torrents')), [])
  t.deepEqual((await readdir(state)).sort(), ['resume.json', 'torrents'])
})

test('a state directory, or its torrents folder, that is a file is ET_STATE_DIR naming it', async (t) => {
  const root = tempDir(t)
  await writeFile(join(root, 'state-file'), 'not a folder')
  const store = new ResumeStore(join(root, 'state-file'), (error) => t.fail(String(error)))
  const error = await t.throwsAsync(store.open(), { code: 'ET_STATE_DIR' })
  t.true(error?.message.includes(join(root, 'state-file')), error?.message)

  await mkdir(join(root, 'state'))
  await writeFile(join(root, 'state', 'torrents'), 'not a folder either')
  const other = new ResumeStore(join(root, 'state'), (error) => t.fail(String(error)))
  const second = await t.throwsAsync(other.open(), { code: 'ET_STATE_DIR' })
  t.true(second?.message.includes(join(root, 'state', 'torrents')), second?.message)
})

test('index entries that are not what the store writes are dropped, the others kept', async (t) => {
  const { item, state, store, metainfo, content } = await setUp(t)
  await store.flush()
  const index = JSON.parse(await readFile(join(state, 'resume.json'), 'utf8')) as { items: Record<string, unknown> }
  await writeFile(join(state, 'resume.json'), JSON.stringify({ version: 1, items: { ...index.items, '/a': null, '/b': 'x', '/c': { infoHash: 'zz', signature: '[]' }, '/d': { infoHash: metainfo.infoHash } } }))
  const reopened = await openStore(t, state)
  t.is((await reopened.lookup(item, contentSignature(content)))?.infoHash, metainfo.infoHash)
  for (const path of ['/a', '/b', '/c', '/d']) t.is(await reopened.lookup(path, '[]'), undefined)
})

test('a signature is a digest; a text signature remembered by an earlier version still matches its content', async (t) => {
  const { item, state, store, content, metainfo } = await setUp(t)
  const signature = contentSignature(content)
  t.regex(signature, /^sha1:[0-9a-f]{40}$/)
  // What earlier versions remembered: the text itself.
  const text = JSON.stringify([...content.files].map((file, index) => [content.files.relativePath(index), file.size, file.mtimeMs, file.ino]))
  await store.flush()
  const index = JSON.parse(await readFile(join(state, 'resume.json'), 'utf8')) as { items: Record<string, { signature: string }> }
  index.items[item]!.signature = text
  await writeFile(join(state, 'resume.json'), JSON.stringify(index))
  const reopened = await openStore(t, state)
  t.is((await reopened.lookup(item, signature))?.infoHash, metainfo.infoHash)
  t.is(await reopened.lookup(item, contentSignature(await scanContent(join(item, 'b')))), undefined, 'another content does not match it')
})
