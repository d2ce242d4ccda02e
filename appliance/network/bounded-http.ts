import { request } from 'node:http'
import { PortMappingError } from './errors.js'

export interface HttpAnswer {
  readonly status: number
  readonly body: string
  /** The address this box used for the connection: its LAN address as the router sees it. */
  readonly localAddress: string
}

/** One HTTP exchange with the router, bounded in time and in the size of the answer. */
export async function boundedHttp (url: URL, options: { method: 'GET' | 'POST', headers?: Record<string, string>, body?: string, maxBytes: number, signal: AbortSignal }): Promise<HttpAnswer> {
  return await new Promise((resolve, reject) => {
    const unreachable = (error: Error): void => {
      reject(error instanceof PortMappingError ? error : new PortMappingError('ET_GATEWAY_UNREACHABLE', `${url.origin}: ${error.message}`, { cause: error }))
    }
    let localAddress = ''
    const outgoing = request(url, { method: options.method, headers: options.headers, signal: options.signal, agent: false }, (response) => {
      const chunks: Buffer[] = []
      let size = 0
      response.on('data', (chunk: Buffer) => {
        size += chunk.length
        if (size > options.maxBytes) {
          response.destroy(new PortMappingError('ET_GATEWAY_MALFORMED', `${url.href} answered more than ${options.maxBytes} bytes`))
          return
        }
        chunks.push(chunk)
      })
      response.on('error', unreachable)
      response.on('end', () => {
        resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), localAddress })
      })
    })
    // Read on connect: once the answer has ended, the socket may already be gone.
    outgoing.on('socket', (socket) => socket.once('connect', () => { localAddress = socket.localAddress ?? '' }))
    outgoing.on('error', unreachable)
    outgoing.end(options.body)
  })
}
