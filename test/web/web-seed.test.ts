import test, { type ExecutionContext } from 'ava'
import { execFileSync } from 'node:child_process'
import { open, rm, symlink, utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { Catalog, type PublishedTorrent } from '../../appliance/catalog/catalog.js'
import { encodeTorrent, parseTorrent } from '../../appliance/metainfo/metainfo.js'
import type { FileErrorEvent, ServedEvent, WebSeedFile, WebSeedOptions } from '../../appliance/web/web-seed.js'
import { writeTree } from '../helpers/content.js'
import { tempDir } from '../helpers/temp-dir.js'
import { HOST, publish, startWebSeed, type WebSeedFixture } from './fixture.js'
import { httpGet, type HttpResult } from './http-client.js'

const SECRET = 'TOP-SECRET-MARKER-0123456789'

interface Published extends WebSeedFixture {
  readonly root: string
  readonly catalog: Catalog
  readonly single: PublishedTorrent
  readonly multi: PublishedTorrent
  readonly bytes: Map<string, Buffer>
  readonly fileErrors: FileErrorEvent[]
  readonly served: ServedEvent[]
  get (path: string, headers?: Record<string, string>, method?: string): Promise<HttpResult>
}

/** A single-file and a multi-file torrent served by a web seed, and a secret file next to them. */
async function published (t: ExecutionContext, options: Partial<WebSeedOptions> = {}): Promise<Published> {
  const root = tempDir(t)
  const bytes = writeTree(root, {
    'pub/single.bin': 200_000,
    'pub/folder/a.txt': 'hello\n',
    'pub/folder/sub dir/ép 1+2.bin': 70_000,
    'secret.txt': SECRET
  })
  const catalog = new Catalog()
  const fixture = await startWebSeed(t, catalog, options)
  const single = await publish(join(root, 'pub/single.bin'), fixture.baseUrl)
  const multi = await publish(join(root, 'pub/folder'), fixture.baseUrl)
  catalog.add(single)
  catalog.add(multi)
  const fileErrors: FileErrorEvent[] = []
  const served: ServedEvent[] = []
  fixture.seed.on('fileError', (event) => fileErrors.push(event))
  fixture.seed.on('served', (event) => served.push(event))
  return {
    ...fixture,
    root,
    catalog,
    single,
    multi,
    bytes,
    fileErrors,
    served,
    get: async (path, headers = {}, method = 'GET') => await httpGet(HOST, fixture.web.port, path, { headers, method })
  }
}

function singlePath (p: Published): string {
  return `/webseed/${p.single.metainfo.infoHash}/single.bin`
}

test('GET serves a whole file with Content-Length, Accept-Ranges, Last-Modified and a safe type', async (t) => {
  const p = await published(t)
  const result = await p.get(singlePath(p))
  t.is(result.status, 200)
  t.true(result.body.equals(p.bytes.get('pub/single.bin')!))
  t.is(result.headers['content-length'], '200000')
  t.is(result.headers['accept-ranges'], 'bytes')
  t.is(result.headers['content-type'], 'application/octet-stream')
  t.is(result.headers['x-content-type-options'], 'nosniff')
  t.is(result.headers['last-modified'], new Date(p.single.files.at(0)!.mtimeMs).toUTCString())
})

test('Range requests: a-b, a-, -n, past the end, several ranges, malformed', async (t) => {
  const p = await published(t)
  const file = p.bytes.get('pub/single.bin')!
  const cases: Array<[string, number, number, number]> = [
    ['bytes=0-99', 206, 0, 99],
    ['bytes=150000-', 206, 150000, 199999],
    ['bytes=-1000', 206, 199000, 199999],
    ['bytes=199990-300000', 206, 199990, 199999],
    ['bytes=10-19,100-109', 206, 10, 109],
    ['bytes=nonsense', 200, 0, 199999]
  ]
  for (const [range, status, start, end] of cases) {
    const result = await p.get(singlePath(p), { Range: range })
    t.is(result.status, status, range)
    t.true(result.body.equals(file.subarray(start, end + 1)), range)
    t.is(result.headers['content-length'], String(end - start + 1), range)
    t.is(result.headers['content-range'], status === 206 ? `bytes ${start}-${end}/200000` : undefined, range)
  }
  const unsatisfiable = await p.get(singlePath(p), { Range: 'bytes=200000-' })
  t.is(unsatisfiable.status, 416)
  t.is(unsatisfiable.headers['content-range'], 'bytes */200000')
  t.false(unsatisfiable.body.includes(file.subarray(0, 16)))
})

test('HEAD answers the headers of GET without a body', async (t) => {
  const p = await published(t)
  const whole = await p.get(singlePath(p), {}, 'HEAD')
  t.is(whole.status, 200)
  t.is(whole.headers['content-length'], '200000')
  t.is(whole.body.length, 0)
  const part = await p.get(singlePath(p), { Range: 'bytes=-10' }, 'HEAD')
  t.is(part.status, 206)
  t.is(part.headers['content-range'], 'bytes 199990-199999/200000')
  t.is(part.body.length, 0)
  t.deepEqual(p.served, [], 'HEAD serves no bytes')
})

test('multi-file torrents are served at <name>/<path...>, percent-encoded segment by segment', async (t) => {
  const p = await published(t)
  const ih = p.multi.metainfo.infoHash
  const nested = await p.get(`/webseed/${ih}/folder/sub%20dir/${encodeURIComponent('ép 1+2.bin')}`)
  t.is(nested.status, 200)
  t.true(nested.body.equals(p.bytes.get('pub/folder/sub dir/ép 1+2.bin')!))
  t.is((await p.get(`/webseed/${ih}/folder/a.txt`)).body.toString(), 'hello\n')
})

test('traversal attempts, folders and unknown torrents are 4xx and never leak a byte', async (t) => {
  const p = await published(t)
  const single = p.single.metainfo.infoHash
  const multi = p.multi.metainfo.infoHash
  const secretPath = join(p.root, 'secret.txt')
  const attempts = [
    `/webseed/${single}/../../secret.txt`,
    `/webseed/${single}/single.bin/../../secret.txt`,
    `/webseed/${single}/%2e%2e/%2e%2e/secret.txt`,
    `/webseed/${single}/%2E%2E%2F%2E%2E%2Fsecret.txt`,
    `/webseed/${single}/single.bin%2f..%2f..%2fsecret.txt`,
    `/webseed/${single}/..%5c..%5csecret.txt`,
    `/webseed/${single}//etc/passwd`,
    `/webseed/${single}/%2Fetc%2Fpasswd`,
    `/webseed/${single}${secretPath}`,
    `/webseed/${single}/${encodeURIComponent(secretPath)}`,
    `/webseed/${single}/single.bin%00`,
    `/webseed/${single}/single.bin%00.txt`,
    `/webseed/${single}/single.bin/`,
    `/webseed/${single}/`,
    `/webseed/${single}`,
    `/webseed/${'0'.repeat(40)}/single.bin`,
    `/webseed/${multi}/folder`,
    `/webseed/${multi}/folder/`,
    `/webseed/${multi}/folder/sub%20dir`,
    `/webseed/${multi}/folder/..%2f..%2fsecret.txt`,
    `/webseed/${multi}/a.txt`,
    '/webseed/../../etc/passwd',
    '/webseed/',
    '/secret.txt',
    `/${secretPath}`
  ]
  for (const path of attempts) {
    const result = await p.get(path)
    t.true(result.status >= 400 && result.status < 500, `${path} → ${result.status}`)
    t.false(result.body.toString('latin1').includes(SECRET), path)
    t.true(result.body.length < 100, path)
  }
  t.deepEqual(p.served, [])
  t.deepEqual(p.fileErrors, [])
})

test('a file replaced by a link to another file of the same size and mtime is not served: its inode is not the hashed one', async (t) => {
  const p = await published(t)
  const path = p.single.files.at(0)!.absolutePath
  const elsewhere = join(tempDir(t), 'box-file.bin')
  await writeFile(elsewhere, Buffer.alloc(200_000, 0x42))
  execFileSync('touch', ['-r', path, elsewhere]) // the mtime to the nanosecond, which utimes cannot set
  await rm(path)
  await symlink(elsewhere, path)
  const result = await p.get(singlePath(p))
  t.is(result.status, 503)
  t.false(result.body.includes(Buffer.alloc(64, 0x42)))
  t.deepEqual(p.fileErrors.map((event) => event.error.code), ['ET_FILE_CHANGED'])
})

test('a file changed since hashing is not served: 503 and ET_FILE_CHANGED', async (t) => {
  const p = await published(t)
  const path = p.single.files.at(0)!.absolutePath
  const changed = Buffer.alloc(200_000, 0x41)
  await writeFile(path, changed) // same size, new mtime
  const sameSize = await p.get(singlePath(p))
  t.is(sameSize.status, 503)
  t.false(sameSize.body.includes(changed.subarray(0, 64)))
  await writeFile(path, 'short')
  const mtime = new Date(p.single.files.at(0)!.mtimeMs)
  await utimes(path, mtime, mtime) // a changed size alone is caught too
  t.is((await p.get(singlePath(p), { Range: 'bytes=0-3' })).status, 503)
  t.deepEqual(p.fileErrors.map((event) => [event.infoHash, event.fileIndex, event.error.code]), [
    [p.single.metainfo.infoHash, 0, 'ET_FILE_CHANGED'],
    [p.single.metainfo.infoHash, 0, 'ET_FILE_CHANGED']
  ])
})

test('a missing file is a 404 and ET_FILE_MISSING', async (t) => {
  const p = await published(t)
  await rm(p.multi.files.at(1)!.absolutePath)
  const result = await p.get(`/webseed/${p.multi.metainfo.infoHash}/folder/sub%20dir/${encodeURIComponent('ép 1+2.bin')}`)
  t.is(result.status, 404)
  t.like(p.fileErrors[0], { infoHash: p.multi.metainfo.infoHash, fileIndex: 1, error: { code: 'ET_FILE_MISSING' } })
})

/**
 * Opens real files, but the first `failures` streams break after one chunk: with EIO or short, the way
 * a pulled drive does, or with ENOMEM, the way a process short of memory does.
 */
function failingOpen (failures: number, how: 'eio' | 'short' | 'enomem'): (path: string) => Promise<WebSeedFile> {
  let left = failures
  return async (path) => {
    const handle = await open(path, 'r')
    if (left-- <= 0) return handle
    return {
      stat: async () => await handle.stat(),
      close: async () => { await handle.close() },
      createReadStream: () => {
        let sent = false
        return new Readable({
          read () {
            if (sent) {
              if (how === 'eio') this.destroy(Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' }))
              else if (how === 'enomem') this.destroy(Object.assign(new Error('ENOMEM: not enough memory, read'), { code: 'ENOMEM' }))
              else this.push(null)
              return
            }
            sent = true
            this.push(Buffer.alloc(65536))
          }
        })
      }
    }
  }
}

test('a read error mid-stream cuts that response, reports ET_READ, and the server keeps serving', async (t) => {
  const p = await published(t, { openFile: failingOpen(1, 'eio') })
  await t.throwsAsync(p.get(singlePath(p)))
  const next = await p.get(singlePath(p))
  t.is(next.status, 200)
  t.true(next.body.equals(p.bytes.get('pub/single.bin')!))
  t.deepEqual(p.fileErrors.map((event) => event.error.code), ['ET_READ'])
})

test('a file that comes up short while streaming is cut, not ended as if complete', async (t) => {
  const p = await published(t, { openFile: failingOpen(1, 'short') })
  await t.throwsAsync(p.get(singlePath(p)))
  t.deepEqual(p.fileErrors.map((event) => event.error.code), ['ET_FILE_CHANGED'])
})

for (const code of ['EMFILE', 'ENFILE', 'ENOMEM', 'EAGAIN']) {
  test(`${code} opening a file is a 503 with Retry-After and a warning, never a fileError (it says nothing about the file)`, async (t) => {
    let failing = true
    const p = await published(t, {
      openFile: async (path) => {
        if (failing) throw Object.assign(new Error(`${code}: resource shortage, open '${path}'`), { code })
        return await open(path, 'r')
      }
    })
    const warnings: string[] = []
    p.seed.on('warning', (error) => warnings.push(error.code))
    const refused = await p.get(singlePath(p))
    t.is(refused.status, 503)
    t.true(Number(refused.headers['retry-after']) > 0, `Retry-After: ${String(refused.headers['retry-after'])}`)
    t.deepEqual(p.fileErrors, [])
    t.deepEqual(warnings, ['ET_RESOURCE'])
    failing = false
    t.true((await p.get(singlePath(p))).body.equals(p.bytes.get('pub/single.bin')!), 'served once descriptors are back')
  })
}

test('ENOMEM reading mid-stream cuts that response without a fileError', async (t) => {
  const p = await published(t, { openFile: failingOpen(1, 'enomem') })
  const warnings: string[] = []
  p.seed.on('warning', (error) => warnings.push(error.code))
  await t.throwsAsync(p.get(singlePath(p)))
  t.deepEqual(p.fileErrors, [])
  t.deepEqual(warnings, ['ET_RESOURCE'])
})

test('bytes served are counted per torrent', async (t) => {
  const p = await published(t)
  await p.get(singlePath(p))
  await p.get(singlePath(p), { Range: 'bytes=0-9' })
  await p.get(`/webseed/${p.multi.metainfo.infoHash}/folder/a.txt`)
  t.is(p.seed.bytesServed(p.single.metainfo.infoHash), 200_010)
  t.is(p.seed.bytesServed(p.multi.metainfo.infoHash), 6)
  t.is(p.seed.bytesServed('f'.repeat(40)), 0)
  t.deepEqual(p.served.map((event) => event.bytes), [200_000, 10, 6])
})

test('/torrents/<infohash>.torrent serves the published torrent, url-list included', async (t) => {
  const p = await published(t)
  const result = await p.get(`/torrents/${p.multi.metainfo.infoHash}.torrent`)
  t.is(result.status, 200)
  t.is(result.headers['content-type'], 'application/x-bittorrent')
  t.is(result.headers['content-disposition'], 'attachment; filename="folder.torrent"; filename*=UTF-8\'\'folder.torrent')
  t.true(result.body.equals(encodeTorrent(p.multi.metainfo)))
  const parsed = parseTorrent(result.body)
  t.is(parsed.infoHash, p.multi.metainfo.infoHash)
  t.deepEqual(parsed.urlList, [`${p.baseUrl}/webseed/${p.multi.metainfo.infoHash}/`])
  t.is((await p.get(`/torrents/${'0'.repeat(40)}.torrent`)).status, 404)
  t.is((await p.get(`/torrents/${p.multi.metainfo.infoHash}`)).status, 404)
})
