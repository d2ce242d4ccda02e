import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import type { Teardown } from '../helpers/teardown.js'

export type Route = (request: IncomingMessage, response: ServerResponse) => void | Promise<void>

/** A stand-in for another box's web server, on loopback: the routes the test gives it, by path; 404 otherwise. */
export async function startFeedServer (t: Teardown, routes: Readonly<Record<string, Route>>, fallback?: Route): Promise<{ origin: string }> {
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://x').pathname
    const route = routes[path] ?? fallback
    if (route === undefined) {
      response.writeHead(404).end()
      return
    }
    Promise.resolve(route(request, response)).catch(() => { response.destroy() })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(async () => {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  })
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }
}

/**
 * A slow BEP 19 web seed over `root` (the folder the torrent's name is in): GET with one byte range,
 * `bytesPerTick` every 10 ms, so that a test can stop a download halfway. Counts the bytes it sent.
 */
export function slowWebSeed (root: string, prefix: string, bytesPerTick: number, count: (bytes: number) => void): Route {
  return async (request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname.slice(prefix.length))
    const file = join(root, ...path.split('/'))
    const size = (await stat(file)).size
    const range = /^bytes=(\d+)-(\d*)$/.exec(request.headers.range ?? '')
    const start = range === null ? 0 : Number(range[1])
    const end = range === null || range[2] === '' ? size - 1 : Math.min(Number(range[2]), size - 1)
    response.writeHead(range === null ? 200 : 206, { 'content-length': end - start + 1, ...(range !== null && { 'content-range': `bytes ${start}-${end}/${size}` }) })
    const stream = createReadStream(file, { start, end, highWaterMark: bytesPerTick })
    stream.on('data', (chunk) => {
      stream.pause()
      count(chunk.length)
      response.write(chunk)
      setTimeout(() => stream.resume(), 10)
    })
    stream.on('end', () => response.end())
    stream.on('error', () => response.destroy())
    response.on('close', () => stream.destroy())
  }
}
