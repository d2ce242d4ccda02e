import test from 'ava'
import { once } from 'node:events'
import { request, type IncomingMessage } from 'node:http'
import { connect } from 'node:net'
import { join } from 'node:path'
import { writeTree } from '../helpers/content.js'
import { ServeProcess } from '../helpers/serve-process.js'
import { tempDir } from '../helpers/temp-dir.js'
import { httpGet } from '../web/http-client.js'

const TOKEN = 'hostile-http-token'

/** Resolves once the server closes a connection that sent nothing; rejects if it stays open `withinMs`. */
async function silentConnection (port: number, withinMs: number): Promise<void> {
  const socket = connect({ host: '127.0.0.1', port, localAddress: '127.0.0.2' })
  socket.on('error', () => {})
  await once(socket, 'connect')
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => { reject(new Error(`port ${port} left a silent connection open for ${withinMs} ms`)) }, withinMs)
      socket.once('end', () => { clearTimeout(timer); resolve() })
      socket.once('close', () => { clearTimeout(timer); resolve() })
    })
  } finally {
    socket.destroy()
  }
}

async function eventStream (port: number, localAddress: string): Promise<IncomingMessage> {
  return await new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path: '/api/events', localAddress, agent: false }, resolve).once('error', reject).end()
  })
}

test('serve applies the HTTP bounds from its settings: silent connections closed on both ports, event streams per address, the Host guard', async (t) => {
  const root = tempDir(t)
  writeTree(join(root, 'library'), { 'one.txt': 'one' })
  const serve = await ServeProcess.start(t, {
    libraries: [join(root, 'library')],
    stateDir: join(root, 'state'),
    settings: { 'http.headers_seconds': 1, 'http.event_streams_per_address': 2, 'web.admin_token': TOKEN }
  })
  await Promise.all([silentConnection(serve.httpPort, 20_000), silentConnection(serve.trackerPort, 20_000)])

  const streams = await Promise.all([1, 2, 3].map(async () => await eventStream(serve.httpPort, '127.0.0.2')))
  t.teardown(() => { for (const stream of streams) stream.destroy() })
  t.deepEqual(streams.map((stream) => stream.statusCode).sort(), [200, 200, 429])
  const other = await eventStream(serve.httpPort, '127.0.0.3')
  other.destroy()
  t.is(other.statusCode, 200, 'another address still gets a stream')

  const auth = { Authorization: `Bearer ${TOKEN}` }
  const rebound = await httpGet('127.0.0.1', serve.httpPort, '/api/actions/rescan', { method: 'POST', headers: { ...auth, Host: `attacker.example:${serve.httpPort}` } })
  t.is(rebound.status, 421)
  t.is((await httpGet('127.0.0.1', serve.httpPort, '/api/actions/rescan', { method: 'POST', headers: auth })).status, 200, 'with the box\'s own address it runs')
  t.is(await serve.stop(), 0)
})

test('under an open-files limit too small for its connection limits, serve lowers them at start with one warning naming the numbers', async (t) => {
  const root = tempDir(t)
  writeTree(join(root, 'library'), { 'one.txt': 'one' })
  const serve = await ServeProcess.start(t, {
    libraries: [join(root, 'library')],
    stateDir: join(root, 'state'),
    settings: { 'hashing.threads': 2 },
    wrap: (argv) => ['prlimit', '--nofile=1024:1024', '--', ...argv]
  })
  const warnings = serve.lines.filter((line) => line.msg === 'connection limits lowered to fit the open-files limit')
  t.is(warnings.length, 1)
  // 1024 - 256 reserve - (64 + 32 open files + 2 x 4 hashing) = 664 for 512 HTTP and 200 peer connections.
  t.like(warnings[0], { level: 'warn', open_files_limit: '1024', other_fds: '104', fd_reserve: '256', http_max_connections: '477', seeder_max_connections: '186' })
  await serve.waitFor((line) => line.msg === 'published') // SIGTERM is handled from then on
  t.is(await serve.stop(), 0)
})
