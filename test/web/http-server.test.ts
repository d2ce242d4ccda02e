import test, { type ExecutionContext } from 'ava'
import { Agent, request } from 'node:http'
import { HttpServer } from '../../appliance/web/http-server.js'
import type { WebError } from '../../appliance/web/errors.js'
import { httpGet, rawExchange } from './http-client.js'

const HOST = '127.0.0.1'

async function started (t: ExecutionContext, setup: (server: HttpServer) => void = () => {}): Promise<HttpServer> {
  const server = new HttpServer({ port: 0, host: HOST })
  setup(server)
  await server.start()
  t.teardown(async () => { await server.close() })
  return server
}

test('routes by exact path and by prefix; anything else is a 404 with safe default headers', async (t) => {
  const server = await started(t, (s) => {
    s.route(['GET'], '/exact', (_req, res, match) => { res.end(`exact ${match.path}|${match.rest}`) })
    s.route(['GET'], '/files/*', (_req, res, match) => { res.end(`files ${match.rest}`) })
    s.route(['GET'], '/files/special/*', (_req, res, match) => { res.end(`special ${match.rest}`) })
  })
  t.not(server.port, 0)
  t.is((await httpGet(HOST, server.port, '/exact?x=1')).body.toString(), 'exact /exact|')
  t.is((await httpGet(HOST, server.port, '/files/a/b%20c')).body.toString(), 'files a/b%20c')
  t.is((await httpGet(HOST, server.port, '/files/special/x')).body.toString(), 'special x')
  t.is((await httpGet(HOST, server.port, '/files/../exact')).body.toString(), 'files ../exact', 'paths are not normalised')
  for (const path of ['/', '/exact/', '/files', '/nothing']) {
    const result = await httpGet(HOST, server.port, path)
    t.is(result.status, 404, path)
    t.is(result.headers['x-content-type-options'], 'nosniff')
    t.is(result.headers['x-frame-options'], 'DENY')
  }
})

test('a method a route does not take is a 405 with Allow', async (t) => {
  const server = await started(t, (s) => { s.route(['GET', 'HEAD'], '/x', (_req, res) => { res.end('x') }) })
  const result = await httpGet(HOST, server.port, '/x', { method: 'POST' })
  t.is(result.status, 405)
  t.is(result.headers.allow, 'GET, HEAD')
})

test('a request target that is not a path is a 400', async (t) => {
  const server = await started(t, (s) => { s.route(['GET'], '/x', (_req, res) => { res.end('x') }) })
  const answer = await rawExchange(HOST, server.port, `GET http://${HOST}/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`)
  t.regex(answer, /^HTTP\/1\.1 400 /)
})

test('a failing handler gets a 500 and a warning, and the server keeps serving', async (t) => {
  const warnings: WebError[] = []
  const server = await started(t, (s) => {
    s.route(['GET'], '/throw', () => { throw new Error('boom') })
    s.route(['GET'], '/reject', async () => { await Promise.reject(new Error('async boom')) })
    s.route(['GET'], '/ok', (_req, res) => { res.end('ok') })
    s.on('warning', (error) => warnings.push(error))
  })
  t.is((await httpGet(HOST, server.port, '/throw')).status, 500)
  t.is((await httpGet(HOST, server.port, '/reject')).status, 500)
  t.is((await httpGet(HOST, server.port, '/ok')).body.toString(), 'ok')
  t.deepEqual(warnings.map((warning) => warning.code), ['ET_HANDLER', 'ET_HANDLER'])
})

test('close ends idle keep-alive connections and busy ones, and resolves', async (t) => {
  const server = new HttpServer({ port: 0, host: HOST })
  server.route(['GET'], '/quick', (_req, res) => { res.end('quick') })
  server.route(['GET'], '/slow', (_req, res) => { res.write('never finished') })
  await server.start()
  const agent = new Agent({ keepAlive: true })
  t.teardown(() => { agent.destroy() })
  const quick = await new Promise<string>((resolve) => {
    request({ host: HOST, port: server.port, path: '/quick', agent }, (res) => {
      res.setEncoding('utf8')
      let body = ''
      res.on('data', (chunk: string) => { body += chunk })
      res.on('end', () => { resolve(body) })
    }).end()
  })
  t.is(quick, 'quick')
  const slowClosed = new Promise<void>((resolve) => {
    request({ host: HOST, port: server.port, path: '/slow', agent: false }, (res) => {
      res.once('close', resolve)
      res.resume()
    }).on('error', () => { resolve() }).end()
  })
  await new Promise((resolve) => setTimeout(resolve, 100))
  const timedOut = await Promise.race([
    Promise.all([server.close(), slowClosed]).then(() => false),
    new Promise<boolean>((resolve) => setTimeout(() => { resolve(true) }, 2000))
  ])
  t.false(timedOut, 'close waited for the keep-alive connection or the unfinished response')
  await t.throwsAsync(httpGet(HOST, server.port, '/quick'), { code: 'ECONNREFUSED' })
})

test('start fails with ET_LISTEN on a port in use', async (t) => {
  const first = await started(t)
  const second = new HttpServer({ port: first.port, host: HOST })
  await t.throwsAsync(second.start(), { code: 'ET_LISTEN' as never })
})

test('upgrades go to the handler of their exact path; others are refused', async (t) => {
  const server = await started(t, (s) => {
    s.upgrade('/ws', (_req, socket) => { socket.end('HTTP/1.1 101 Switching Protocols\r\nUpgrade: test\r\nConnection: Upgrade\r\n\r\nhello') })
  })
  const upgrade = (path: string): string => `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: test\r\n\r\n`
  t.regex(await rawExchange(HOST, server.port, upgrade('/ws')), /^HTTP\/1\.1 101 [^]*hello$/)
  t.regex(await rawExchange(HOST, server.port, upgrade('/other')), /^HTTP\/1\.1 404 /)
})
