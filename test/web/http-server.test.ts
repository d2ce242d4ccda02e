import test, { type ExecutionContext } from 'ava'
import { once } from 'node:events'
import { Agent, request } from 'node:http'
import { connect, type Socket } from 'node:net'
import { ConnectionGate, type GateRefusal } from '../../appliance/net/connection-gate.js'
import { HttpServer, httpServerOptionsFrom, type HttpServerOptions } from '../../appliance/web/http-server.js'
import type { WebError } from '../../appliance/web/errors.js'
import { DEFAULTS } from '../helpers/defaults.js'
import { httpGet, rawExchange } from './http-client.js'

const HOST = '127.0.0.1'

async function started (t: ExecutionContext, setup: (server: HttpServer) => void = () => {}, options: Partial<HttpServerOptions> = {}): Promise<HttpServer> {
  const server = new HttpServer({ ...httpServerOptionsFrom(DEFAULTS), port: 0, host: HOST, ...options })
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

test('held until mounted: a request for a route not mounted yet waits for it instead of a 404; mounted routes answer at once', async (t) => {
  const server = await started(t, (s) => {
    s.route(['GET'], '/early', (_req, res) => { res.end('early') })
    s.holdUntilMounted()
  })
  t.is((await httpGet(HOST, server.port, '/early')).body.toString(), 'early')
  let answered = false
  const page = httpGet(HOST, server.port, '/page').finally(() => { answered = true })
  const missing = httpGet(HOST, server.port, '/never')
  await new Promise((resolve) => setTimeout(resolve, 100))
  t.false(answered, 'answered before the route was mounted')
  server.route(['GET'], '/page', (_req, res) => { res.end('page') })
  server.mounted()
  const result = await page
  t.is(result.status, 200)
  t.is(result.body.toString(), 'page')
  t.is((await missing).status, 404, 'a path no route takes is still a 404 once mounted')
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
  const server = new HttpServer({ ...httpServerOptionsFrom(DEFAULTS), port: 0, host: HOST })
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
  const second = new HttpServer({ ...httpServerOptionsFrom(DEFAULTS), port: first.port, host: HOST })
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

/** A TCP connection to `port` from `localAddress`, destroyed when the test ends. */
async function openSocket (t: ExecutionContext, port: number, localAddress = HOST): Promise<Socket> {
  const socket = connect({ host: HOST, port, localAddress })
  socket.on('error', () => {})
  t.teardown(() => { socket.destroy() })
  await once(socket, 'connect')
  return socket
}

/** Resolves with what the server sent once it closed the connection; rejects if it is still open after `withinMs`. */
async function closedByServer (socket: Socket, withinMs: number): Promise<string> {
  const chunks: Buffer[] = []
  socket.on('data', (chunk: Buffer) => chunks.push(chunk))
  if (!socket.readableEnded && !socket.destroyed) {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => { reject(new Error(`the server left the connection open for ${withinMs} ms`)) }, withinMs)
      const done = (): void => { clearTimeout(timer); resolve() }
      socket.once('end', done)
      socket.once('close', done)
    })
  }
  return Buffer.concat(chunks).toString('latin1')
}

test('a connection that sends nothing at all is closed after headersMs', async (t) => {
  const server = await started(t, () => {}, { headersMs: 300 })
  const silent = await openSocket(t, server.port)
  t.is(await closedByServer(silent, 10_000), '')
})

test('headers trickled in a byte at a time get 408 once headersMs have passed', async (t) => {
  const server = await started(t, (s) => { s.route(['GET'], '/x', (_req, res) => { res.end('x') }) }, { headersMs: 500 })
  const slow = await openSocket(t, server.port)
  const trickle = setInterval(() => { if (slow.writable) slow.write('X') }, 100)
  t.teardown(() => { clearInterval(trickle) })
  slow.write('GET /x HTTP/1.1\r\nHost: x\r\nX-Slow: ')
  t.regex(await closedByServer(slow, 10_000), /^HTTP\/1\.1 408 /)
})

test('request line and headers over maxHeaderBytes get 431', async (t) => {
  const server = await started(t, (s) => { s.route(['GET'], '/x', (_req, res) => { res.end('x') }) }, { maxHeaderBytes: 2048 })
  t.is((await httpGet(HOST, server.port, '/x', { headers: { 'X-Fill': 'a'.repeat(1500) } })).status, 200)
  t.is((await httpGet(HOST, server.port, '/x', { headers: { 'X-Fill': 'a'.repeat(3000) } })).status, 431)
})

test('an idle keep-alive connection is closed after idleMs', async (t) => {
  const server = await started(t, (s) => { s.route(['GET'], '/x', (_req, res) => { res.end('x') }) }, { idleMs: 300, headersMs: 60_000 })
  const socket = await openSocket(t, server.port)
  socket.write('GET /x HTTP/1.1\r\nHost: x\r\n\r\n')
  // Well before Node's own default of 5 s.
  t.regex(await closedByServer(socket, 3_000), /^HTTP\/1\.1 200 [^]*\r\n\r\nx$/)
})

test('a long response is not cut by the idle or headers timeouts, however long it pauses', async (t) => {
  const server = await started(t, (s) => {
    s.route(['GET'], '/slow', async (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain' })
      for (let chunk = 0; chunk < 4; chunk++) {
        res.write(`chunk ${chunk}\n`)
        await new Promise((resolve) => setTimeout(resolve, 600))
      }
      res.end('done\n')
    })
  }, { idleMs: 200, headersMs: 200 })
  const result = await httpGet(HOST, server.port, '/slow')
  t.is(result.body.toString(), 'chunk 0\nchunk 1\nchunk 2\nchunk 3\ndone\n')
})

test('one gate bounds two servers together: per address, then in all; refusals are reported', async (t) => {
  const gate = new ConnectionGate({ total: 6, perAddress: 4 })
  const refused: Array<[string, GateRefusal]> = []
  const options = { gate, headersMs: 60_000 }
  const first = await started(t, (s) => { s.on('refused', (address, reason) => refused.push([address, reason])) }, options)
  const second = await started(t, (s) => { s.on('refused', (address, reason) => refused.push([address, reason])) }, options)
  const held = [
    ...await Promise.all([1, 2, 3].map(async () => await openSocket(t, first.port, '127.0.0.2'))),
    await openSocket(t, second.port, '127.0.0.2')
  ]
  const overAddress = await openSocket(t, second.port, '127.0.0.2')
  t.is(await closedByServer(overAddress, 10_000), '', 'a fifth connection from one address is closed, whichever port')
  const others = await Promise.all([first.port, second.port].map(async (port) => await openSocket(t, port, '127.0.0.3')))
  const overTotal = await openSocket(t, first.port, '127.0.0.4')
  t.is(await closedByServer(overTotal, 10_000), '', 'a seventh connection in all is closed')
  t.deepEqual(refused, [['127.0.0.2', 'address-limit'], ['127.0.0.4', 'connection-limit']])
  t.true([...held, ...others].every((socket) => !socket.destroyed && !socket.readableEnded), 'the admitted connections stay open')
  t.is(gate.size, 6)
})

test('an upgraded connection is no longer timed by the server', async (t) => {
  const server = await started(t, (s) => {
    s.upgrade('/ws', (_req, socket) => { socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: test\r\nConnection: Upgrade\r\n\r\n') })
  }, { headersMs: 200, idleMs: 200 })
  const socket = await openSocket(t, server.port)
  socket.write('GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: test\r\n\r\n')
  await once(socket, 'data')
  await new Promise((resolve) => setTimeout(resolve, 1000))
  t.false(socket.destroyed || socket.readableEnded, 'still open after five times both timeouts')
})
