import test, { type ExecutionContext } from 'ava'
import { request, type IncomingMessage } from 'node:http'
import { Catalog } from '../../appliance/catalog/catalog.js'
import { StatusModel } from '../../appliance/status/status-model.js'
import { HttpServer, httpServerOptionsFrom } from '../../appliance/web/http-server.js'
import { registerStatusPage, statusPageOptionsFrom, type StatusPage } from '../../appliance/web/status-page.js'
import { ownHostNames } from '../../appliance/net/own-host.js'
import { DEFAULTS } from '../helpers/defaults.js'
import { HOST } from './fixture.js'
import { mountStatusPageAssets } from '../../appliance/web/status-page-assets.js'
import { httpGet } from './http-client.js'

const TOKEN = 'status-api-bounds-token'

async function startPage (t: ExecutionContext, calls: string[] = []): Promise<{ port: number, page: StatusPage }> {
  const status = new StatusModel()
  t.teardown(() => status.close())
  const http = new HttpServer({ ...httpServerOptionsFrom(DEFAULTS), port: 0, host: HOST })
  mountStatusPageAssets(http)
  const page = registerStatusPage(http, {
    ...statusPageOptionsFrom(DEFAULTS),
    status,
    catalog: new Catalog(),
    commands: { rescan: async () => { calls.push('rescan') } },
    version: '0.0.0',
    adminToken: TOKEN,
    trackers: () => [],
    name: 'test-box',
    addresses: () => ['192.0.2.7'],
    hostNames: () => ownHostNames('test-box', 'box.example.org')
  })
  await http.start()
  t.teardown(async () => {
    await page.close()
    await http.close()
  })
  return { port: http.port, page }
}

/** Opens `/api/events` from `localAddress` and resolves with the response once its head is in; closed when the test ends. */
async function openStream (t: ExecutionContext, port: number, localAddress: string): Promise<IncomingMessage> {
  return await new Promise((resolve, reject) => {
    const req = request({ host: HOST, port, path: '/api/events', localAddress, agent: false }, (res) => {
      t.teardown(() => { res.destroy() })
      resolve(res)
    })
    req.once('error', reject)
    req.end()
  })
}

test('/api/events: a 5th stream from one address gets 429 while another address still gets one', async (t) => {
  const { port, page } = await startPage(t)
  const four = await Promise.all([1, 2, 3, 4].map(async () => await openStream(t, port, '127.0.0.2')))
  t.deepEqual(four.map((res) => res.statusCode), [200, 200, 200, 200])
  const fifth = await openStream(t, port, '127.0.0.2')
  t.is(fifth.statusCode, 429)
  t.truthy(fifth.headers['retry-after'])
  const other = await openStream(t, port, '127.0.0.3')
  t.is(other.statusCode, 200)
  t.is(page.eventClients, 5)
  four[0]!.destroy()
  // The slot is given back once the server sees the stream closed.
  for (let attempt = 0; page.eventClients > 4 && attempt < 100; attempt++) await new Promise((resolve) => setTimeout(resolve, 20))
  t.is((await openStream(t, port, '127.0.0.2')).statusCode, 200)
})

test('a foreign Host is refused with 421 on every /api/ route, the page itself still loads, and the box\'s own names work', async (t) => {
  const calls: string[] = []
  const { port } = await startPage(t, calls)
  const auth = { Authorization: `Bearer ${TOKEN}` }
  const foreign = { Host: 'attacker.example' }
  const action = await httpGet(HOST, port, '/api/actions/rescan', { method: 'POST', headers: { ...auth, ...foreign } })
  t.is(action.status, 421)
  t.is((JSON.parse(action.body.toString()) as { error: { code: string } }).error.code, 'ET_HOST')
  t.deepEqual(calls, [], 'the action did not run')
  t.is((await httpGet(HOST, port, '/api/status', { headers: foreign })).status, 421)
  t.is((await httpGet(HOST, port, '/api/events', { headers: { Host: `test-box.attacker.example:${port}` } })).status, 421)
  t.is((await httpGet(HOST, port, '/', { headers: foreign })).status, 200, 'the page is static and holds nothing of the box')

  for (const host of [`${HOST}:${port}`, `localhost:${port}`, 'TEST-BOX', `test-box.local:${port}`, 'box.example.org', '[::1]:80']) {
    t.is((await httpGet(HOST, port, '/api/status', { headers: { Host: host } })).status, 200, host)
  }
  t.is((await httpGet(HOST, port, '/api/actions/rescan', { method: 'POST', headers: { ...auth, Host: `test-box:${port}` } })).status, 200)
  t.deepEqual(calls, ['rescan'])
})
